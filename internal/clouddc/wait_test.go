package clouddc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPollSchedule_validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		s       PollSchedule
		wantErr string // empty: valid
	}{
		{name: "default", s: DefaultPollSchedule()},
		{name: "fast", s: fastPoll},
		{name: "no delay, fixed interval", s: PollSchedule{Delay: 0, Interval: time.Second, MinInterval: time.Second, MaxInterval: time.Second}},
		{name: "negative delay", s: PollSchedule{Delay: -time.Millisecond, Interval: time.Second, MinInterval: time.Second, MaxInterval: time.Second}, wantErr: "poll delay must not be negative"},
		{name: "zero interval", s: PollSchedule{Interval: 0, MinInterval: time.Second, MaxInterval: time.Second}, wantErr: "poll intervals must be positive"},
		{name: "zero dense interval", s: PollSchedule{Interval: time.Second, MaxInterval: time.Second}, wantErr: "poll intervals must be positive"},
		{name: "negative interval", s: PollSchedule{Interval: -time.Second, MinInterval: time.Second, MaxInterval: time.Second}, wantErr: "poll intervals must be positive"},
		{name: "max below interval", s: PollSchedule{Interval: 2 * time.Second, MinInterval: time.Second, MaxInterval: time.Second}, wantErr: "poll intervals must satisfy min <= interval <= max"},
		{name: "dense above interval", s: PollSchedule{Interval: time.Second, MinInterval: 2 * time.Second, MaxInterval: 3 * time.Second}, wantErr: "poll intervals must satisfy min <= interval <= max"},
		{name: "zero value", s: PollSchedule{}, wantErr: "poll intervals must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(WithEndpoint("https://clouddc.example.com"), WithProjectID(testProject), WithToken(testToken), WithPollSchedule(tt.s))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewClient: %v", err)
				}
				if c.poll != tt.s {
					t.Errorf("poll schedule = %+v; want %+v", c.poll, tt.s)
				}
				return
			}
			if err == nil || err.Error() != "clouddc: "+tt.wantErr {
				t.Errorf("error = %v; want %q", err, "clouddc: "+tt.wantErr)
			}
		})
	}
}

func TestPollSchedule_steady(t *testing.T) {
	t.Parallel()
	s := DefaultPollSchedule()
	tests := []struct {
		elapsed, want time.Duration
	}{
		{0, time.Second},
		{30 * time.Second, time.Second},
		{time.Minute, time.Second},
		{2 * time.Minute, 2 * time.Second},
		{5 * time.Minute, 5 * time.Second},
		{10 * time.Minute, 10 * time.Second},
		{time.Hour, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := s.steady(tt.elapsed); got != tt.want {
			t.Errorf("steady(%v) = %v; want %v", tt.elapsed, got, tt.want)
		}
	}
}

func TestDefaultPollSchedule(t *testing.T) {
	t.Parallel()
	s := DefaultPollSchedule()
	if err := s.validate(); err != nil {
		t.Fatalf("the default schedule is invalid: %v", err)
	}
	want := PollSchedule{Delay: time.Second, Interval: time.Second, MinInterval: 250 * time.Millisecond, MaxInterval: 10 * time.Second}
	if s != want {
		t.Errorf("DefaultPollSchedule() = %+v; want %+v", s, want)
	}
}

// waitCase is a scripted wait and what it must end with.
type waitCase struct {
	name         string
	steps        []step
	wantState    State  // the returned status's state, when wantStatusNil is false
	wantOp       string // the returned status's operation state
	wantNilSt    bool   // the returned status is nil
	wantRequests int
	check        func(t *testing.T, err error)
}

func runWaitCases(t *testing.T, wait func(*Client, context.Context, string) (*InstanceStatus, error), tests []waitCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t, tt.steps...)
			c := newTestClient(t, srv.url)
			st, err := wait(c, testContext(t), testID)
			if tt.check != nil {
				tt.check(t, err)
			} else if err != nil {
				t.Fatalf("wait: %v", err)
			}
			switch {
			case tt.wantNilSt && st != nil:
				t.Errorf("status = %+v; want nil", st)
			case !tt.wantNilSt && st == nil:
				t.Errorf("status = nil; want %q/%q", tt.wantState, tt.wantOp)
			case !tt.wantNilSt && (st.State != tt.wantState || st.OperationState != tt.wantOp):
				t.Errorf("status = %q/%q; want %q/%q", st.State, st.OperationState, tt.wantState, tt.wantOp)
			}
			if n := srv.requests(); n != tt.wantRequests {
				t.Errorf("the server answered %d polls; want %d", n, tt.wantRequests)
			}
		})
	}
}

// wantFailed checks an *InstanceFailedError: the instance is in state error,
// with the operation state and the detail the API reported.
func wantFailed(wantOp string, wantDetail *InstanceError, goal string) func(*testing.T, error) {
	const wantState = StateError
	return func(t *testing.T, err error) {
		t.Helper()
		var failed *InstanceFailedError
		if !errors.As(err, &failed) {
			t.Fatalf("error = %v (%T); want *InstanceFailedError", err, err)
		}
		if failed.InstanceID != testID || failed.Goal != goal || failed.State != wantState || failed.OperationState != wantOp {
			t.Errorf("failure = %+v; want %s %q %q/%q", failed, testID, goal, wantState, wantOp)
		}
		switch {
		case wantDetail == nil && failed.Detail != nil:
			t.Errorf("detail = %+v; want none", failed.Detail)
		case wantDetail != nil && (failed.Detail == nil || *failed.Detail != *wantDetail):
			t.Errorf("detail = %+v; want %+v", failed.Detail, wantDetail)
		}
		msg := err.Error()
		for _, want := range []string{testID, goal, string(wantState)} {
			if !strings.Contains(msg, want) {
				t.Errorf("Error() = %q; want it to contain %q", msg, want)
			}
		}
		if wantDetail != nil && (!strings.Contains(msg, wantDetail.Code) || !strings.Contains(msg, wantDetail.Message) || !strings.Contains(msg, wantDetail.Type)) {
			t.Errorf("Error() = %q; want the detail's code, message and type", msg)
		}
		if wantDetail == nil && !strings.Contains(msg, "no error details reported") {
			t.Errorf("Error() = %q; want it to say that no details were reported", msg)
		}
	}
}

func wantUnexpected(state State, known bool, expected ...State) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var unexpected *UnexpectedStateError
		if !errors.As(err, &unexpected) {
			t.Fatalf("error = %v (%T); want *UnexpectedStateError", err, err)
		}
		if unexpected.InstanceID != testID || unexpected.State != state || !slices.Equal(unexpected.Expected, expected) {
			t.Errorf("error = %+v; want %s in %q expecting %v", unexpected, testID, state, expected)
		}
		msg := err.Error()
		if !strings.Contains(msg, testID) || !strings.Contains(msg, fmt.Sprintf("%q", state)) {
			t.Errorf("Error() = %q; want the instance ID and the state", msg)
		}
		if got := strings.Contains(msg, "does not know"); got == known {
			t.Errorf("Error() = %q; mentions an unknown state: %v, want %v", msg, got, !known)
		}
		for _, s := range expected {
			if !strings.Contains(msg, string(s)) {
				t.Errorf("Error() = %q; want the expected state %q", msg, s)
			}
		}
	}
}

func wantAPIErrorCheck(status int, sentinel error) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
			t.Fatalf("error = %v (%T); want an *APIError with HTTP %d", err, err, status)
		}
		if !errors.Is(err, sentinel) {
			t.Errorf("error = %v; want it to match %v", err, sentinel)
		}
		var waitErr *WaitError
		if errors.As(err, &waitErr) {
			t.Errorf("an API error was reported as a WaitError: %v", waitErr)
		}
	}
}

func TestClient_waitForInstanceRunning(t *testing.T) {
	t.Parallel()
	createErr := &InstanceError{Code: "CDC.0510", Message: "hardware check failed", Type: ErrorTypeCreate}
	runWaitCases(t, (*Client).WaitForInstanceRunning, []waitCase{
		{
			name:      "pending, pending, running",
			steps:     []step{statusOK("pending", "install-processing"), statusOK("pending", "install-processing"), statusOK("running", "install-succeed")},
			wantState: StateRunning, wantOp: OpInstallSucceed, wantRequests: 3,
		},
		{
			name:      "running at once",
			steps:     []step{statusOK("running", "install-succeed")},
			wantState: StateRunning, wantOp: OpInstallSucceed, wantRequests: 1,
		},
		{
			name:      "pending then error with detail",
			steps:     []step{statusOK("pending", "install-processing"), statusWithError("error", "install-failed", createErr.Code, createErr.Message, createErr.Type)},
			wantState: StateError, wantOp: OpInstallFailed, wantRequests: 2,
			check: wantFailed(OpInstallFailed, createErr, "become running"),
		},
		{
			name:      "legacy failed",
			steps:     []step{statusOK("pending", "install-processing"), statusWithError("failed", "install-failed", createErr.Code, createErr.Message, createErr.Type)},
			wantState: StateError, wantOp: OpInstallFailed, wantRequests: 2,
			check: wantFailed(OpInstallFailed, createErr, "become running"),
		},
		{
			name:      "error without detail",
			steps:     []step{statusOK("error", "install-failed")},
			wantState: StateError, wantOp: OpInstallFailed, wantRequests: 1,
			check: wantFailed(OpInstallFailed, nil, "become running"),
		},
		{
			name:      "unknown state",
			steps:     []step{statusOK("pending", "install-processing"), statusOK("hibernating", "")},
			wantState: "hibernating", wantRequests: 2,
			check: wantUnexpected("hibernating", false, StatePending, StateRunning),
		},
		{
			name:      "known but unexpected state",
			steps:     []step{statusOK("stopped", "")},
			wantState: StateStopped, wantRequests: 1,
			check: wantUnexpected(StateStopped, true, StatePending, StateRunning),
		},
		{
			name: "transient errors between pendings",
			steps: []step{
				statusOK("pending", "install-processing"),
				apiErrorStep(http.StatusServiceUnavailable, "APIGW.0503", "service unavailable"),
				{drop: true},
				{status: http.StatusTooManyRequests, body: "Too Many Requests"},
				{status: http.StatusBadGateway},
				apiErrorStep(http.StatusInternalServerError, CodeInternalError, "internal error"),
				{status: http.StatusGatewayTimeout, body: "<html>timeout</html>"},
				statusOK("pending", "install-processing"),
				statusOK("running", "install-succeed"),
			},
			wantState: StateRunning, wantOp: OpInstallSucceed, wantRequests: 9,
		},
		{
			name:      "transient error first",
			steps:     []step{{drop: true}, statusOK("running", "install-succeed")},
			wantState: StateRunning, wantOp: OpInstallSucceed, wantRequests: 2,
		},
		{
			name:      "401 is not retried",
			steps:     []step{statusOK("pending", "install-processing"), apiErrorStep(http.StatusUnauthorized, CodeUnauthenticated, "token expired"), statusOK("running", "install-succeed")},
			wantState: StatePending, wantOp: OpInstallProcessing, wantRequests: 2,
			check: wantAPIErrorCheck(http.StatusUnauthorized, ErrUnauthorized),
		},
		{
			name:      "404 is not success when waiting for running",
			steps:     []step{statusOK("pending", "install-processing"), apiErrorStep(http.StatusNotFound, CodeInstanceNotFound, "Instances not found")},
			wantState: StatePending, wantOp: OpInstallProcessing, wantRequests: 2,
			check: wantAPIErrorCheck(http.StatusNotFound, ErrNotFound),
		},
		{
			// The API may list a new instance a moment after its create
			// answered: not listed yet is not gone.
			name: "not listed yet, then pending and running",
			steps: []step{apiErrorStep(http.StatusNotFound, CodeInstanceNotFound, "Instances not found"),
				apiErrorStep(http.StatusNotFound, CodeInstanceNotFound, "Instances not found"),
				statusOK("pending", "install-processing"), statusOK("running", "install-succeed")},
			wantState: StateRunning, wantOp: "install-succeed", wantRequests: 4,
		},
		{
			// An answer that cannot be decoded says nothing about the
			// instance: the wait looks again.
			name:      "malformed answer, then running",
			steps:     []step{{body: `{"state":42}`}, statusOK("running", "install-succeed")},
			wantState: StateRunning, wantOp: "install-succeed", wantRequests: 2,
		},
	})
}

func TestClient_waitForInstanceTerminated(t *testing.T) {
	t.Parallel()
	deleteErr := &InstanceError{Code: "CDC.0620", Message: "disk wipe failed", Type: ErrorTypeDelete}
	expected := []State{StateShuttingDown, StatePending, StateRunning, StateStopped, StateStopping, StateTerminated}
	runWaitCases(t, (*Client).WaitForInstanceTerminated, []waitCase{
		{
			name:      "shutting-down then terminated",
			steps:     []step{statusOK("shutting-down", "uninstall-processing"), statusOK("shutting-down", "uninstall-processing"), statusOK("terminated", "uninstall-succeed")},
			wantState: StateTerminated, wantOp: OpUninstallSucceed, wantRequests: 3,
		},
		{
			name:      "legacy teminated",
			steps:     []step{statusOK("shutting-down", "uninstall-processing"), statusOK("teminated", "uninstall-succeed")},
			wantState: StateTerminated, wantOp: OpUninstallSucceed, wantRequests: 2,
		},
		{
			name:      "404 means gone",
			steps:     []step{statusOK("shutting-down", "uninstall-processing"), apiErrorStep(http.StatusNotFound, CodeInstanceNotFound, "Instances not found")},
			wantState: StateTerminated, wantOp: "", wantRequests: 2,
		},
		{
			name:      "404 at once",
			steps:     []step{apiErrorStep(http.StatusNotFound, CodeInstanceNotFound, "Instances not found")},
			wantState: StateTerminated, wantOp: "", wantRequests: 1,
		},
		{
			name:      "state from before the delete",
			steps:     []step{statusOK("running", "install-succeed"), statusOK("stopping", ""), statusOK("shutting-down", "uninstall-processing"), statusOK("terminated", "uninstall-succeed")},
			wantState: StateTerminated, wantOp: OpUninstallSucceed, wantRequests: 4,
		},
		{
			name: "stale create error keeps waiting",
			steps: []step{
				statusWithError("error", "install-failed", "CDC.0510", "hardware check failed", ErrorTypeCreate),
				statusOK("shutting-down", "uninstall-processing"),
				statusOK("terminated", "uninstall-succeed"),
			},
			wantState: StateTerminated, wantOp: OpUninstallSucceed, wantRequests: 3,
		},
		{
			name: "stale reinstall error keeps waiting",
			steps: []step{
				statusWithError("error", "reinstall-failed", "CDC.0700", "reinstall failed", ErrorTypeReinstall),
				statusOK("terminated", "uninstall-succeed"),
			},
			wantState: StateTerminated, wantOp: OpUninstallSucceed, wantRequests: 2,
		},
		{
			name:      "delete error fails",
			steps:     []step{statusOK("shutting-down", "uninstall-processing"), statusWithError("error", "uninstall-failed", deleteErr.Code, deleteErr.Message, deleteErr.Type)},
			wantState: StateError, wantOp: OpUninstallFailed, wantRequests: 2,
			check: wantFailed(OpUninstallFailed, deleteErr, "be terminated"),
		},
		{
			name:      "error without detail fails",
			steps:     []step{statusOK("shutting-down", "uninstall-processing"), statusOK("error", "uninstall-failed")},
			wantState: StateError, wantOp: OpUninstallFailed, wantRequests: 2,
			check: wantFailed(OpUninstallFailed, nil, "be terminated"),
		},
		{
			name:      "error with an empty type fails",
			steps:     []step{statusWithError("error", "uninstall-failed", "CDC.1", "failed", "")},
			wantState: StateError, wantOp: OpUninstallFailed, wantRequests: 1,
			check: wantFailed(OpUninstallFailed, &InstanceError{Code: "CDC.1", Message: "failed"}, "be terminated"),
		},
		{
			name:      "unknown state",
			steps:     []step{statusOK("shutting-down", "uninstall-processing"), statusOK("archiving", "archive-processing")},
			wantState: "archiving", wantOp: "archive-processing", wantRequests: 2,
			check: wantUnexpected("archiving", false, expected...),
		},
		{
			name: "transient errors between shutting-downs",
			steps: []step{
				statusOK("shutting-down", "uninstall-processing"),
				{status: http.StatusServiceUnavailable},
				{drop: true},
				statusOK("shutting-down", "uninstall-processing"),
				statusOK("terminated", "uninstall-succeed"),
			},
			wantState: StateTerminated, wantOp: OpUninstallSucceed, wantRequests: 5,
		},
		{
			name:      "403 is not retried",
			steps:     []step{statusOK("shutting-down", "uninstall-processing"), apiErrorStep(http.StatusForbidden, CodeForbidden, "denied")},
			wantState: StateShuttingDown, wantOp: OpUninstallProcessing, wantRequests: 2,
			check: wantAPIErrorCheck(http.StatusForbidden, ErrForbidden),
		},
	})
}

func wantWaitError(t *testing.T, err error, ctxErr error, goal string, lastState State, lastOp string) {
	t.Helper()
	var waitErr *WaitError
	if !errors.As(err, &waitErr) {
		t.Fatalf("error = %v (%T); want *WaitError", err, err)
	}
	if !errors.Is(err, ctxErr) {
		t.Errorf("errors.Is(%v, %v) = false", err, ctxErr)
	}
	other := context.Canceled
	if errors.Is(ctxErr, context.Canceled) {
		other = context.DeadlineExceeded
	}
	if errors.Is(err, other) {
		t.Errorf("errors.Is(%v, %v) = true; want false", err, other)
	}
	if waitErr.InstanceID != testID || waitErr.Goal != goal || waitErr.LastState != lastState || waitErr.LastOperationState != lastOp {
		t.Errorf("WaitError = %+v; want %s %q last seen %q/%q", waitErr, testID, goal, lastState, lastOp)
	}
	msg := err.Error()
	want := []string{testID, goal}
	if errors.Is(ctxErr, context.Canceled) {
		want = append(want, "was cancelled")
	} else {
		want = append(want, "timed out")
	}
	if lastState == "" {
		want = append(want, "no state was read yet")
	} else {
		want = append(want, fmt.Sprintf("%q", lastState))
	}
	if lastOp != "" {
		want = append(want, fmt.Sprintf("%q", lastOp))
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("Error() = %q; want it to contain %q", msg, w)
		}
	}
}

func TestClient_wait_deadline(t *testing.T) {
	t.Parallel()

	t.Run("still pending", func(t *testing.T) {
		t.Parallel()
		srv := newScriptServer(t, statusOK("pending", "install-processing"))
		c := newTestClient(t, srv.url)
		// 300ms: enough for a first poll on a loaded machine under -race.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		st, err := c.WaitForInstanceRunning(ctx, testID)
		elapsed := time.Since(start)
		wantWaitError(t, err, context.DeadlineExceeded, "become running", StatePending, OpInstallProcessing)
		if st == nil || st.State != StatePending {
			t.Errorf("status = %+v; want the last pending answer", st)
		}
		if elapsed < 300*time.Millisecond || elapsed > 3*time.Second {
			t.Errorf("the wait took %v; want it to end at the 300ms deadline", elapsed)
		}
		// Several polls, not a count: the machine may be loaded (or run
		// with the race detector), and timing claims live in make bench.
		if n := srv.requests(); n < 2 {
			t.Errorf("the server answered %d polls in 300ms of a 1–5ms schedule; want several", n)
		}
	})

	t.Run("last answer wins", func(t *testing.T) {
		t.Parallel()
		srv := newScriptServer(t, statusOK("running", "install-succeed"), statusOK("shutting-down", "uninstall-processing"))
		c := newTestClient(t, srv.url)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := c.WaitForInstanceTerminated(ctx, testID)
		wantWaitError(t, err, context.DeadlineExceeded, "be terminated", StateShuttingDown, OpUninstallProcessing)
	})

	t.Run("every poll fails", func(t *testing.T) {
		t.Parallel()
		srv := newScriptServer(t, step{status: http.StatusServiceUnavailable, body: "unavailable"})
		c := newTestClient(t, srv.url)
		// Long enough for two polls on a loaded machine under -race.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		st, err := c.WaitForInstanceRunning(ctx, testID)
		wantWaitError(t, err, context.DeadlineExceeded, "become running", "", "")
		if st != nil {
			t.Errorf("status = %+v; want nil when nothing was read", st)
		}
		if n := srv.requests(); n < 2 {
			t.Errorf("the server answered %d polls; want the wait to keep polling", n)
		}
	})

	t.Run("deadline during a request", func(t *testing.T) {
		t.Parallel()
		url, started := blockingServer(t)
		c := newTestClient(t, url)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		st, err := c.WaitForInstanceRunning(ctx, testID)
		if d := time.Since(start); d > time.Second {
			t.Errorf("the wait took %v after a 100ms deadline", d)
		}
		if started.Load() != 1 {
			t.Errorf("the server received %d requests; want 1", started.Load())
		}
		wantWaitError(t, err, context.DeadlineExceeded, "become running", "", "")
		if st != nil {
			t.Errorf("status = %+v; want nil", st)
		}
	})
}

// blockingServer answers nothing until the client goes away; it counts the
// requests it received.
func blockingServer(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func TestClient_wait_cancel(t *testing.T) {
	t.Parallel()
	slow := PollSchedule{Delay: 0, Interval: 10 * time.Second, MinInterval: 10 * time.Second, MaxInterval: 10 * time.Second}

	t.Run("between polls", func(t *testing.T) {
		t.Parallel()
		srv := newScriptServer(t, statusOK("shutting-down", "uninstall-processing"))
		c := newTestClient(t, srv.url, WithPollSchedule(slow))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		type result struct {
			st  *InstanceStatus
			err error
		}
		done := make(chan result, 1)
		go func() {
			st, err := c.WaitForInstanceTerminated(ctx, testID)
			done <- result{st, err}
		}()
		deadline := time.Now().Add(2 * time.Second)
		for srv.requests() < 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // let the wait reach its 10s timer
		start := time.Now()
		cancel()
		var r result
		select {
		case r = <-done:
		case <-time.After(time.Second):
			t.Fatal("the wait did not return within 1s of the cancellation")
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("the wait returned %v after the cancellation", d)
		}
		wantWaitError(t, r.err, context.Canceled, "be terminated", StateShuttingDown, OpUninstallProcessing)
		if r.st == nil || r.st.State != StateShuttingDown {
			t.Errorf("status = %+v; want the last answer", r.st)
		}
		if n := srv.requests(); n != 1 {
			t.Errorf("the server answered %d polls; want 1", n)
		}
	})

	t.Run("before the first poll", func(t *testing.T) {
		t.Parallel()
		srv := newScriptServer(t, statusOK("pending", "install-processing"))
		c := newTestClient(t, srv.url, WithPollSchedule(PollSchedule{Delay: 10 * time.Second, Interval: time.Second, MinInterval: time.Second, MaxInterval: time.Second}))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		start := time.Now()
		st, err := c.WaitForInstanceRunning(ctx, testID)
		if d := time.Since(start); d > time.Second {
			t.Errorf("the wait took %v; want it to end at the cancellation", d)
		}
		wantWaitError(t, err, context.Canceled, "become running", "", "")
		if st != nil || srv.requests() != 0 {
			t.Errorf("status %+v after %d polls; want nil and none", st, srv.requests())
		}
	})

	t.Run("during a request", func(t *testing.T) {
		t.Parallel()
		url, started := blockingServer(t)
		c := newTestClient(t, url, WithPollSchedule(slow))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			deadline := time.Now().Add(2 * time.Second)
			for started.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		start := time.Now()
		_, err := c.WaitForInstanceRunning(ctx, testID)
		if d := time.Since(start); d > time.Second {
			t.Errorf("the wait took %v; want it to end at the cancellation", d)
		}
		wantWaitError(t, err, context.Canceled, "become running", "", "")
	})
}

func TestClient_wait_schedule(t *testing.T) {
	t.Parallel()

	t.Run("first poll after the delay", func(t *testing.T) {
		t.Parallel()
		srv := newScriptServer(t, statusOK("running", "install-succeed"))
		c := newTestClient(t, srv.url, WithPollSchedule(PollSchedule{Delay: 60 * time.Millisecond, Interval: time.Millisecond, MinInterval: time.Millisecond, MaxInterval: time.Millisecond}))
		start := time.Now()
		if _, err := c.WaitForInstanceRunning(testContext(t), testID); err != nil {
			t.Fatalf("wait: %v", err)
		}
		times := srv.requestTimes()
		if len(times) != 1 || times[0].Sub(start) < 60*time.Millisecond {
			t.Errorf("polls at %v after the start; want one, not before 60ms", durationsSince(start, times))
		}
	})

	t.Run("polls every interval while nothing is learned", func(t *testing.T) {
		t.Parallel()
		srv := newScriptServer(t,
			statusOK("pending", "a"), statusOK("pending", "a"), statusOK("pending", "a"), statusOK("running", "install-succeed"))
		c := newTestClient(t, srv.url, WithPollSchedule(PollSchedule{Delay: 0, Interval: 40 * time.Millisecond, MinInterval: time.Millisecond, MaxInterval: time.Second}))
		if _, err := c.WaitForInstanceRunning(testContext(t), testID); err != nil {
			t.Fatalf("wait: %v", err)
		}
		times := srv.requestTimes()
		if len(times) != 4 {
			t.Fatalf("%d polls; want 4", len(times))
		}
		for i := 1; i < len(times); i++ {
			// Never sooner than the interval; the upper bound only catches a
			// schedule that is badly off, since a loaded machine delays timers.
			if gap := times[i].Sub(times[i-1]); gap < 40*time.Millisecond || gap > 2*time.Second {
				t.Errorf("gap %d is %v; want the 40ms interval", i, gap)
			}
		}
	})
}

func durationsSince(start time.Time, times []time.Time) []time.Duration {
	out := make([]time.Duration, len(times))
	for i, tm := range times {
		out[i] = tm.Sub(start)
	}
	return out
}

func TestWaitErrors_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "wait timed out",
			err: &WaitError{InstanceID: "i-1", Goal: "become running", LastState: StatePending,
				LastOperationState: OpInstallProcessing, Err: context.DeadlineExceeded},
			want: `waiting for instance i-1 to become running timed out; it was last seen in state "pending" (operation_state "install-processing")`,
		},
		{
			name: "wait cancelled before any answer",
			err:  &WaitError{InstanceID: "i-2", Goal: "be terminated", Err: context.Canceled},
			want: `waiting for instance i-2 to be terminated was cancelled; no state was read yet`,
		},
		{
			name: "wait cancelled through a wrapped error",
			err:  &WaitError{InstanceID: "i-3", Goal: "be terminated", LastState: StateShuttingDown, Err: fmt.Errorf("stop: %w", context.Canceled)},
			want: `waiting for instance i-3 to be terminated was cancelled; it was last seen in state "shutting-down"`,
		},
		{
			name: "instance failed with detail",
			err: &InstanceFailedError{InstanceID: "i-4", Goal: "become running", State: StateError, OperationState: OpInstallFailed,
				Detail: &InstanceError{Code: "CDC.1", Message: "no disk", Type: ErrorTypeCreate}},
			want: `instance i-4 failed to become running: it is in state "error" (operation_state "install-failed") with error_type create_instance_error, error_code CDC.1: no disk`,
		},
		{
			name: "instance failed without detail",
			err:  &InstanceFailedError{InstanceID: "i-5", Goal: "be terminated", State: StateError, OperationState: OpUninstallFailed},
			want: `instance i-5 failed to be terminated: it is in state "error" (operation_state "uninstall-failed") with no error details reported`,
		},
		{
			name: "unknown state",
			err:  &UnexpectedStateError{InstanceID: "i-6", Goal: "become running", State: "hibernating", Expected: []State{StatePending, StateRunning}},
			want: `while waiting for instance i-6 to become running it reached state "hibernating" (a state this provider does not know; the API may be newer than the provider); expected one of: pending, running`,
		},
		{
			name: "known unexpected state",
			err:  &UnexpectedStateError{InstanceID: "i-7", Goal: "become running", State: StateStopped, Expected: []State{StatePending, StateRunning}},
			want: `while waiting for instance i-7 to become running it reached state "stopped"; expected one of: pending, running`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}

	t.Run("WaitError unwraps to the context error", func(t *testing.T) {
		t.Parallel()
		err := fmt.Errorf("create: %w", &WaitError{InstanceID: "i", Goal: "g", Err: context.DeadlineExceeded})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is: DeadlineExceeded %v, Canceled %v; want true, false",
				errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled))
		}
		if IsTransient(err) {
			t.Error("IsTransient(WaitError) = true; want false")
		}
	})
}
