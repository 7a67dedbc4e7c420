package clouddc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// createFault decides what happens to the n-th POST /instances (from 1).
type createFault func(n int) (forward bool, status int, drop bool)

// faultyFront puts a simulator behind a handler that can break creates:
// forward them and then lose the answer, or answer without forwarding.
func faultyFront(t *testing.T, fault createFault, breakLists *atomic.Bool) (*simulator.Simulator, *Client, *atomic.Int32) {
	t.Helper()
	sim, err := simulator.New(simulator.Options{CreateDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var creates atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && breakLists != nil && breakLists.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":"iMetal.0003","error_msg":"token expired"}`))
			return
		}
		if r.Method != http.MethodPost {
			sim.ServeHTTP(w, r)
			return
		}
		n := int(creates.Add(1))
		forward, status, drop := fault(n)
		if forward {
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, r)
			if status == 0 && !drop {
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
		}
		if drop {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error_code":"iMetal.0099","error_msg":"internal error"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(WithEndpoint(srv.URL), WithProjectID(sim.ProjectID()), WithToken(sim.Token()), WithRetryPolicy(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	return sim, c, &creates
}

func createInput() CreateInstanceInput {
	return CreateInstanceInput{
		Name: "web-1", ImageID: simulator.DefaultImageID, VPCID: simulator.DefaultVPCID, Password: "Secret-123x",
		NetworkInterfaces: []NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
	}
}

func TestCreateInstanceSafely(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		fault        createFault
		wantAdopted  bool
		wantAttempts int
	}{
		{"created, then the answer was a 503: adopt", func(n int) (bool, int, bool) { return true, 503, false }, true, 1},
		{"created, then the connection dropped: adopt", func(n int) (bool, int, bool) { return true, 0, true }, true, 1},
		{"created, then a 500: adopt rather than make a second", func(n int) (bool, int, bool) { return true, 500, false }, true, 1},
		{"a 503 before anything was created: send again", func(n int) (bool, int, bool) {
			if n == 1 {
				return false, 503, false
			}
			return true, 0, false
		}, false, 2},
		{"a connection dropped before anything was created: send again", func(n int) (bool, int, bool) {
			if n == 1 {
				return false, 0, true
			}
			return true, 0, false
		}, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, c, creates := faultyFront(t, tc.fault, nil)
			res, err := c.CreateInstanceSafely(context.Background(), createInput())
			if err != nil {
				t.Fatalf("CreateInstanceSafely: %v", err)
			}
			if res.Adopted != tc.wantAdopted || res.Attempts != tc.wantAttempts || int(creates.Load()) != tc.wantAttempts {
				t.Errorf("result %+v after %d POSTs; want adopted=%v attempts=%d", res, creates.Load(), tc.wantAdopted, tc.wantAttempts)
			}
			all := sim.Instances()
			if len(all) != 1 || all[0].ID != res.ID {
				t.Fatalf("the simulator has %d instances (%+v); want exactly the one returned, %s", len(all), all, res.ID)
			}
		})
	}
}

func TestCreateInstanceSafely_lookupFailsSoNothingIsResent(t *testing.T) {
	t.Parallel()
	var breakLists atomic.Bool
	breakLists.Store(true)
	sim, c, creates := faultyFront(t, func(int) (bool, int, bool) { return true, 503, false }, &breakLists)
	_, err := c.CreateInstanceSafely(context.Background(), createInput())
	var unknown *OutcomeUnknownError
	if !errors.As(err, &unknown) || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error %v should carry the unknown outcome and the failed lookup", err)
	}
	if !strings.Contains(err.Error(), `"web-1"`) {
		t.Errorf("the error should tell the user which name to look for: %v", err)
	}
	if creates.Load() != 1 || len(sim.Instances()) != 1 {
		t.Errorf("%d POSTs, %d instances; the create must not be resent when the lookup fails", creates.Load(), len(sim.Instances()))
	}
}

func TestCreateInstanceSafely_doesNotAdoptOlderOrOtherInstances(t *testing.T) {
	t.Parallel()
	sim, c, creates := faultyFront(t, func(n int) (bool, int, bool) {
		if n <= 2 {
			return true, 0, false // set-up creates
		}
		if n == 3 {
			return false, 503, false // lost before it was made
		}
		return true, 0, false
	}, nil)
	ctx := context.Background()
	// Same name, made an hour ago.
	old, err := c.CreateInstance(ctx, createInput())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.UpdateInstance(old, func(in *simulator.Instance) {
		in.CreatedAt = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	}); err != nil {
		t.Fatal(err)
	}
	// Same name, just made, but on another server than the one requested.
	other, err := c.CreateInstance(ctx, createInput())
	if err != nil {
		t.Fatal(err)
	}
	in := createInput()
	servers := sim.Servers()
	var free string
	for _, s := range servers {
		if s.Ready() {
			free = s.ID
			break
		}
	}
	in.Placement = &Placement{ServerID: free}
	res, err := c.CreateInstanceSafely(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Adopted || res.ID == old || res.ID == other {
		t.Fatalf("adopted an instance the create did not make: %+v (old %s, other %s)", res, old, other)
	}
	got, _ := sim.Instance(res.ID)
	if got.ServerID != free || creates.Load() != 4 {
		t.Errorf("new instance on %s (want %s) after %d POSTs", got.ServerID, free, creates.Load())
	}
}

func TestCreateInstanceSafely_ordinaryErrorsAreReturned(t *testing.T) {
	t.Parallel()
	_, c, creates := faultyFront(t, func(int) (bool, int, bool) { return true, 0, false }, nil)
	in := createInput()
	in.Password = "short"
	_, err := c.CreateInstanceSafely(context.Background(), in)
	if !errors.Is(err, ErrBadRequest) || creates.Load() != 1 {
		t.Fatalf("err %v after %d POSTs; want one ErrBadRequest", err, creates.Load())
	}
}
