package clouddc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func reinstallStep(opState, launched, updated string) step {
	return step{body: fmt.Sprintf(`{"state":"running","operation_state":%q,"launched_at":%q,"updated_at":%q}`, opState, launched, updated)}
}

// TestWaitForReinstall_sinceItsOwnRequest: after a reinstall that follows
// another one, the old reinstall-succeed must not end the wait.
func TestWaitForReinstall_sinceItsOwnRequest(t *testing.T) {
	t.Parallel()
	prior := &Instance{ID: testID, State: StateRunning, OperationState: OpReinstallSucceed, LaunchedAt: "L1", UpdatedAt: "U1"}
	stale := reinstallStep(OpReinstallSucceed, "L1", "U1")
	tests := []struct {
		name     string
		prior    *Instance
		steps    []step
		timeout  time.Duration
		wantErr  string
		minPolls int
	}{
		{
			name:  "the new reinstall shows late",
			prior: prior,
			steps: []step{stale, stale, reinstallStep(OpReinstallProcessing, "L1", "U2"), reinstallStep(OpReinstallSucceed, "L2", "U3")},
			// Two stale answers, the processing one, and the end.
			minPolls: 4,
		},
		{
			name:     "it came and went between two polls",
			prior:    prior,
			steps:    []step{stale, reinstallStep(OpReinstallSucceed, "L2", "U3")},
			minPolls: 2,
		},
		{
			name:     "blips are ridden out",
			prior:    prior,
			steps:    []step{apiErrorStep(502, "iMetal.0099", "bad gateway"), stale, reinstallStep(OpReinstallSucceed, "L2", "U2")},
			minPolls: 3,
		},
		{
			// updated_at may change as the request is accepted, before the
			// operation shows: it is no evidence of this reinstall's end.
			name:     "updated_at changes first",
			prior:    prior,
			steps:    []step{reinstallStep(OpReinstallSucceed, "L1", "U2"), reinstallStep(OpReinstallProcessing, "L1", "U2"), reinstallStep(OpReinstallSucceed, "L2", "U3")},
			minPolls: 3,
		},
		{
			name: "never shows", prior: prior, steps: []step{stale}, timeout: 50 * time.Millisecond,
			wantErr: `waiting for instance ` + testID + ` to finish reinstalling its OS timed out; it was last seen in state "running" (operation_state "reinstall-succeed")`,
		},
		{
			name:     "no earlier reinstall: the usual wait",
			prior:    &Instance{ID: testID, State: StateRunning, OperationState: "install-succeed", LaunchedAt: "L1", UpdatedAt: "U1"},
			steps:    []step{reinstallStep("install-succeed", "L1", "U1"), reinstallStep(OpReinstallProcessing, "L1", "U2"), reinstallStep(OpReinstallSucceed, "L2", "U3")},
			minPolls: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScriptServer(t, tt.steps...)
			c := newTestClient(t, s.url)
			ctx := testContext(t)
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			st, err := c.WaitForReinstall(ctx, testID, tt.prior)
			if tt.wantErr != "" {
				var we *WaitError
				if !errors.As(err, &we) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v; want a *WaitError with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || st.OperationState != OpReinstallSucceed {
				t.Fatalf("WaitForReinstall = %+v, %v", st, err)
			}
			if n := s.requests(); n < tt.minPolls {
				t.Errorf("ended after %d polls; want at least %d (an earlier answer was taken for the end)", n, tt.minPolls)
			}
		})
	}
}

// TestWaitForModifyIP_sinceItsOwnRequest: an IP change after another one
// does not end on the previous change's modify-ip-succeed.
func TestWaitForModifyIP_sinceItsOwnRequest(t *testing.T) {
	t.Parallel()
	prior := &Instance{ID: testID, State: StateRunning, OperationState: OpModifyIPSucceed, LaunchedAt: "L1", UpdatedAt: "U1"}
	stale := reinstallStep(OpModifyIPSucceed, "L1", "U1")
	s := newScriptServer(t, stale, stale, reinstallStep(OpModifyIPProcessing, "L1", "U2"), reinstallStep(OpModifyIPSucceed, "L1", "U3"))
	st, err := newTestClient(t, s.url).WaitForModifyIP(testContext(t), testID, prior)
	if err != nil || st.OperationState != OpModifyIPSucceed || s.requests() < 4 {
		t.Fatalf("WaitForModifyIP = %+v, %v after %d polls; want the new change's end after 4", st, err, s.requests())
	}
	// Without the prior, the stale answer would have ended it at once:
	// the check above is what the prior buys.
	s2 := newScriptServer(t, stale)
	if _, err := newTestClient(t, s2.url).WaitForModifyIP(testContext(t), testID, nil); err != nil || s2.requests() != 1 {
		t.Fatalf("without a prior: %v after %d polls; want the stale answer taken at once", err, s2.requests())
	}
}
