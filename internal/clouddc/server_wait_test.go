package clouddc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const waitServerID = "a0000000-0000-4000-8000-000000000001"

// powerStates answers ShowServer with the given answers in turn (a power
// state, or "5xx" for a gateway blip, or "403" for a refusal), repeating
// the last one.
func powerStates(t *testing.T, answers ...string) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/physicalservers/"+waitServerID) {
			http.Error(w, "unexpected path "+r.URL.Path, http.StatusTeapot)
			return
		}
		mu.Lock()
		a := answers[min(n, len(answers)-1)]
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch a {
		case "5xx":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"error_code":"iMetal.0099","error_msg":"bad gateway"}`))
		case "403":
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error_code":"iMetal.0004","error_msg":"no access"}`))
		default:
			_, _ = fmt.Fprintf(w, `{"id":%q,"power_state":%q,"manage_state":"in-use"}`, waitServerID, a)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWaitForServerPower(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answers   []string
		timeout   time.Duration
		wantErr   string // empty: success
		wantSeen  []string
		wantAsErr bool // a *ServerWaitError
	}{
		{name: "reboot ends on", answers: []string{"rebooting", "rebooting", "on"}, wantSeen: []string{"rebooting", "rebooting", "on"}},
		{name: "already on", answers: []string{"on"}, wantSeen: []string{"on"}},
		{name: "blips are ridden out", answers: []string{"rebooting", "5xx", "5xx", "on"}, wantSeen: []string{"rebooting", "on"}},
		{name: "a refusal ends the wait", answers: []string{"rebooting", "403"}, wantErr: "iMetal.0004"},
		{name: "unknown power state", answers: []string{"rebooting", "melting"}, wantErr: `reached power state "melting"`, wantAsErr: true},
		{
			name: "timeout names the last state", answers: []string{"rebooting"}, timeout: 50 * time.Millisecond,
			wantErr: `waiting for physical server ` + waitServerID + ` to be powered on timed out; it was last seen with power state "rebooting"`, wantAsErr: true,
		},
		{
			name: "timeout during blips names the poll error", answers: []string{"5xx"}, timeout: 50 * time.Millisecond,
			wantErr: "no power state was read yet; the last poll failed", wantAsErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := powerStates(t, tt.answers...)
			c := newTestClient(t, srv.URL)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			var mu sync.Mutex
			var seen []string
			ctx = WithObserver(ctx, func(o Observation) {
				mu.Lock()
				defer mu.Unlock()
				if o.ID != waitServerID || o.Goal != "powered on" {
					t.Errorf("observation %+v names the wrong server or goal", o)
				}
				seen = append(seen, o.State)
			})
			got, err := c.WaitForServerPower(ctx, waitServerID, PowerOn)
			if tt.wantErr == "" {
				if err != nil || got == nil || got.PowerState != PowerOn {
					t.Fatalf("WaitForServerPower = %+v, %v; want on", got, err)
				}
				mu.Lock()
				defer mu.Unlock()
				if fmt.Sprint(seen) != fmt.Sprint(tt.wantSeen) {
					t.Errorf("observed %v; want %v", seen, tt.wantSeen)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v; want it to contain %q", err, tt.wantErr)
			}
			var swe *ServerWaitError
			if errors.As(err, &swe) != tt.wantAsErr {
				t.Errorf("error %T: *ServerWaitError = %v, want %v", err, !tt.wantAsErr, tt.wantAsErr)
			}
		})
	}
}

// TestWatcher_observer: an instance wait reports every status it reads to
// the context's observer.
func TestWatcher_observer(t *testing.T) {
	t.Parallel()
	s := newScriptServer(t, statusOK("running", ""), statusOK("stopping", ""), statusOK("stopped", ""))
	c := newTestClient(t, s.url)
	var mu sync.Mutex
	var seen []string
	ctx := WithObserver(testContext(t), func(o Observation) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, o.State)
	})
	if _, err := c.WaitForPowerState(ctx, testID, StateStopped); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != "[running stopping stopped]" {
		t.Errorf("observed %v; want [running stopping stopped]", seen)
	}
}

func TestWaitForServerReboot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		answers  []string
		wantSeen bool
		wantObs  string
	}{
		// The API still reports on just after accepting the reboot: that
		// on is not the end.
		{name: "on before the reboot shows", answers: []string{"on", "on", "rebooting", "on"}, wantSeen: true, wantObs: "[on on rebooting on]"},
		{name: "rebooting at once", answers: []string{"rebooting", "on"}, wantSeen: true, wantObs: "[rebooting on]"},
		// Never seen to leave on: accepted after the grace period, and
		// reported as unseen.
		{name: "never seen", answers: []string{"on"}, wantSeen: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, powerStates(t, tt.answers...).URL)
			var mu sync.Mutex
			var seen []string
			ctx := WithObserver(testContext(t), func(o Observation) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, o.State)
			})
			start := time.Now()
			srv, gotSeen, err := c.WaitForServerReboot(ctx, waitServerID)
			if err != nil || srv.PowerState != PowerOn {
				t.Fatalf("WaitForServerReboot = %+v, %v", srv, err)
			}
			if gotSeen != tt.wantSeen {
				t.Errorf("seen = %v; want %v", gotSeen, tt.wantSeen)
			}
			if !tt.wantSeen && time.Since(start) < c.RebootGrace() {
				t.Errorf("accepted on after %s, before the grace period of %s", time.Since(start), c.RebootGrace())
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.wantObs != "" && fmt.Sprint(seen) != tt.wantObs {
				t.Errorf("observed %v; want %s", seen, tt.wantObs)
			}
		})
	}
}
