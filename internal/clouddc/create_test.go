package clouddc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// fastLookup looks for a create's instance over a fraction of a second.
var fastLookup = CreateLookup{Window: 300 * time.Millisecond, FirstDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
	Interrupted: 500 * time.Millisecond}

// createFault decides what happens to the n-th POST /instances (from 1).
type createFault func(n int) (forward bool, status int, drop bool)

// front puts a simulator behind a handler that can break creates: forward
// them and then lose the answer, or answer without forwarding; and break
// listings.
type front struct {
	sim     *simulator.TestServer
	client  *Client
	creates atomic.Int32
	lists   atomic.Int32
	// tokens are the create tokens the POSTs carried, in order.
	mu     sync.Mutex
	tokens []string
	// listAnswer, when set, answers GET /instances with this status and body.
	listAnswer atomic.Pointer[[2]string]
	// afterCreate runs after a forwarded create made an instance.
	afterCreate func(id string)
}

func newFront(t *testing.T, fault createFault, opts ...Option) *front {
	t.Helper()
	sim := simulator.StartTest(t, simulator.Options{CreateDuration: time.Hour, Retention: time.Hour})
	f := &front{sim: sim}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/instances") {
			f.lists.Add(1)
			if a := f.listAnswer.Load(); a != nil {
				w.Header().Set("Content-Type", "application/json")
				if a[0] == "401" {
					w.WriteHeader(http.StatusUnauthorized)
				}
				_, _ = w.Write([]byte(a[1]))
				return
			}
		}
		if r.Method != http.MethodPost {
			f.sim.ServeHTTP(w, r)
			return
		}
		n := int(f.creates.Add(1))
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var body CreateInstanceInput
		_ = json.Unmarshal(raw, &body)
		f.mu.Lock()
		f.tokens = append(f.tokens, body.Metadata[CreateTokenKey])
		f.mu.Unlock()
		forward, status, drop := fault(n)
		if !forward && status == hang {
			<-r.Context().Done() // held, and never carried out
			return
		}
		if forward {
			rec := httptest.NewRecorder()
			f.sim.ServeHTTP(rec, r)
			var out struct {
				ID string `json:"instance_id"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			if out.ID != "" && f.afterCreate != nil {
				f.afterCreate(out.ID)
			}
			if status == hang {
				<-r.Context().Done() // the answer never comes
				return
			}
			if status == huge {
				// A 2xx that announces a body larger than any answer.
				w.Header().Set("Content-Length", fmt.Sprint(MaxResponseBody+1))
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(`{"instance_id":`))
				return
			}
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
		if status >= 400 {
			_, _ = w.Write([]byte(`{"error_code":"iMetal.0099","error_msg":"internal error"}`))
		}
	}))
	t.Cleanup(srv.Close)
	base := []Option{WithEndpoint(srv.URL), WithProjectID(sim.ProjectID()), WithToken(sim.Token()), WithRetryPolicy(fastRetry),
		WithCreateLookup(fastLookup)}
	c, err := NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.client = c
	return f
}

// hang, as a createFault's status: the create is carried out and its
// answer never comes. huge: it is carried out and answered 200 with a
// Content-Length over MaxResponseBody.
const (
	hang = -1
	huge = -2
)

// live returns the simulator's instances that are neither terminated nor
// shutting down.
func (f *front) live() []simulator.Instance {
	var out []simulator.Instance
	for _, in := range f.sim.Instances() {
		if in.State != "terminated" && in.State != "shutting-down" {
			out = append(out, in)
		}
	}
	return out
}

func createInput() CreateInstanceInput {
	return CreateInstanceInput{
		Name: "web-1", ImageID: simulator.DefaultImageID, VPCID: simulator.DefaultVPCID, Password: "Secret-123x",
		NetworkInterfaces: []NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
		Metadata:          map[string]string{"team": "platform"},
	}
}

// always and firstThen build createFaults.
func always(forward bool, status int, drop bool) createFault {
	return func(int) (bool, int, bool) { return forward, status, drop }
}

func firstThen(forward bool, status int, drop bool) createFault {
	return func(n int) (bool, int, bool) {
		if n == 1 {
			return forward, status, drop
		}
		return true, 0, false
	}
}

func TestCreateInstance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		fault        createFault
		wantAdopted  bool
		wantAttempts int
	}{
		{"created, then the answer was a 503: adopt", always(true, 503, false), true, 1},
		{"created, then the connection dropped: adopt", always(true, 0, true), true, 1},
		{"created, then a 500: adopt rather than make a second", always(true, 500, false), true, 1},
		{"a 503 before anything was created: send again after the window", firstThen(false, 503, false), false, 2},
		{"a connection dropped before anything was created: send again after the window", firstThen(false, 0, true), false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFront(t, tc.fault)
			res, err := f.client.CreateInstance(context.Background(), createInput())
			if err != nil {
				t.Fatalf("CreateInstance: %v", err)
			}
			if res.Adopted != tc.wantAdopted || res.Attempts != tc.wantAttempts || int(f.creates.Load()) != tc.wantAttempts {
				t.Errorf("result %+v after %d POSTs; want adopted=%v attempts=%d", res, f.creates.Load(), tc.wantAdopted, tc.wantAttempts)
			}
			all := f.sim.Instances()
			if len(all) != 1 || all[0].ID != res.ID {
				t.Fatalf("the simulator has %d instances (%+v); want exactly the one returned, %s", len(all), all, res.ID)
			}
			// The instance carries the create token next to the caller's
			// metadata; every attempt sent the same one.
			if all[0].Metadata[CreateTokenKey] != res.Token || len(res.Token) != 32 || all[0].Metadata["team"] != "platform" {
				t.Errorf("metadata %v, token %q", all[0].Metadata, res.Token)
			}
			for i, tok := range f.tokens {
				if tok != res.Token {
					t.Errorf("POST %d carried token %q, want %q on every attempt", i+1, tok, res.Token)
				}
			}
		})
	}
}

// The happy path costs one request: no lookup when the answer names the
// instance.
func TestCreateInstance_successCostsOneRequest(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 0, false))
	in := createInput()
	res, err := f.client.CreateInstance(context.Background(), in)
	if err != nil || res.Adopted || res.Resent || res.Attempts != 1 {
		t.Fatalf("res %+v, err %v", res, err)
	}
	if f.creates.Load() != 1 || f.lists.Load() != 0 {
		t.Errorf("%d creates and %d listings; want 1 and 0", f.creates.Load(), f.lists.Load())
	}
	if len(in.Metadata) != 1 {
		t.Errorf("the caller's metadata map was changed: %v", in.Metadata)
	}
	if got := f.client.RemoveCreateDuplicates(context.Background(), res); !got.Settled() || f.lists.Load() != 0 {
		t.Errorf("RemoveCreateDuplicates after a create that was not resent: %v, %d listings", got, f.lists.Load())
	}
}

// Someone else's instance with the same name, made moments ago, is never
// adopted, nor is a sibling create's of the same process.
func TestCreateInstance_neverAdoptsAnotherInstanceWithTheSameName(t *testing.T) {
	t.Parallel()
	f := newFront(t, func(n int) (bool, int, bool) {
		if n == 3 {
			return false, 503, false // refused before the API acted
		}
		return true, 0, false
	})
	ctx := context.Background()
	foreign, err := f.client.CreateInstanceByHand(ctx, createInput()) // by hand, just now
	if err != nil {
		t.Fatal(err)
	}
	sibling, err := f.client.CreateInstance(ctx, createInput())
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.client.CreateInstance(ctx, createInput())
	if err != nil {
		t.Fatal(err)
	}
	if res.Adopted || res.ID == foreign || res.ID == sibling.ID || res.Attempts != 2 {
		t.Fatalf("adopted an instance the create did not make: %+v (foreign %s, sibling %s)", res, foreign, sibling.ID)
	}
	if n := len(f.live()); n != 3 {
		t.Errorf("%d live instances, want 3 distinct ones", n)
	}
}

// Creates with one name that all fail after acting, in parallel: each
// adopts its own instance.
func TestCreateInstance_parallelSameNameEachAdoptsItsOwn(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 503, false))
	const n = 6
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := f.client.CreateInstance(context.Background(), createInput())
			ids[i], errs[i] = res.ID, err
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if seen[ids[i]] {
			t.Fatalf("two creates returned instance %s: %v", ids[i], ids)
		}
		seen[ids[i]] = true
	}
	if live := f.live(); len(live) != n {
		t.Errorf("%d live instances for %d creates", len(live), n)
	}
}

// A create answered 504 whose instance appears later, within the window,
// is adopted: nothing is sent again.
func TestCreateInstance_lateCreateWithinTheWindow(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 0, false), WithCreateLookup(CreateLookup{Window: 3 * time.Second,
		FirstDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, Interrupted: time.Second}))
	f.sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, Status: http.StatusGatewayTimeout, Late: 400 * time.Millisecond})
	res, err := f.client.CreateInstance(context.Background(), createInput())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Adopted || res.Attempts != 1 || f.creates.Load() != 1 {
		t.Errorf("res %+v after %d POSTs; want the late instance adopted after one", res, f.creates.Load())
	}
	if live := f.live(); len(live) != 1 || live[0].ID != res.ID {
		t.Errorf("live instances %+v, want only %s", live, res.ID)
	}
}

// A first attempt that lands after the window (later than the API
// promises) is found by its token and deleted.
func TestCreateInstance_lateBeyondTheWindowIsDeleted(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 0, false))
	f.sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, Status: http.StatusGatewayTimeout, Late: time.Second})
	ctx := context.Background()
	res, err := f.client.CreateInstance(ctx, createInput())
	if err != nil {
		t.Fatal(err)
	}
	if res.Adopted || !res.Resent || res.Attempts != 2 {
		t.Fatalf("res %+v; want a resend after the window", res)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(f.sim.Instances()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the late create never landed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	dups := f.client.RemoveCreateDuplicates(ctx, res)
	if len(dups.Deleted) != 1 || dups.Deleted[0] == res.ID || dups.Settled() {
		t.Fatalf("duplicates %+v (kept %s); want one deleted, and not settled until it is gone", dups, res.ID)
	}
	if live := f.live(); len(live) != 1 || live[0].ID != res.ID {
		t.Errorf("live instances %+v, want only %s", live, res.ID)
	}
}

// A duplicate whose deletion ends in error is still a duplicate: the
// next look deletes it again, and only a listing that shows no other
// holder of the token, not even one being deleted, settles the create.
func TestRemoveTokenDuplicates_failedDeletionIsDeletedAgain(t *testing.T) {
	t.Parallel()
	sim, c := newSimClient(t, simulator.Options{CreateDuration: time.Millisecond, DeleteDuration: 20 * time.Millisecond, Retention: time.Hour})
	ctx := context.Background()
	in := validInput("web")
	res, err := c.CreateInstance(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// A second instance with the same token, as a replayed POST makes.
	replayed := in
	replayed.Metadata = map[string]string{CreateTokenKey: res.Token}
	dup, err := c.CreateInstanceByHand(ctx, replayed)
	if err != nil {
		t.Fatal(err)
	}
	waitState := func(id, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for inst, _ := sim.Instance(id); inst.State != want; inst, _ = sim.Instance(id) {
			if time.Now().After(deadline) {
				t.Fatalf("instance %s is %s; want %s", id, inst.State, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitState(dup, "running")
	sim.FailNextDelete("iMetal.0099", "the disks could not be wiped")
	first := c.RemoveTokenDuplicates(ctx, res.Token, res.ID)
	if !slices.Equal(first.Deleted, []string{dup}) || first.Settled() {
		t.Fatalf("first look %+v; want %s deleted and the create unsettled", first, dup)
	}
	waitState(dup, "error")
	// A later refresh: a listing that started now, not the shared one a
	// few seconds old that RemoveTokenDuplicates may take.
	again := c.deleteDuplicates(ctx, res.Token, res.ID, time.Now())
	if !slices.Equal(again.Deleted, []string{dup}) {
		t.Fatalf("look after the failed deletion %+v; want %s deleted again", again, dup)
	}
	waitState(dup, "terminated")
	if last := c.deleteDuplicates(ctx, res.Token, res.ID, time.Now()); !last.Settled() {
		t.Errorf("look once the duplicate is terminated %+v; want settled", last)
	}
}

// A 2xx answer whose body is unusable: the create took effect, so it is
// never sent again; the instance is found by its token.
func TestCreateInstance_undecodableSuccess(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"", "<html><body>Request accepted</body></html>", `{"instance_id":""}`, `{"instance_id":`,
		`{"instance_id":"not-a-uuid"}`, `{"instance_id":"../instances"}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			f := newFront(t, always(true, 0, false), WithMaxRetries(0))
			f.sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, After: true, Status: http.StatusOK, RawBody: &body})
			res, err := f.client.CreateInstance(context.Background(), createInput())
			if err != nil {
				t.Fatal(err)
			}
			if !res.Adopted || f.creates.Load() != 1 {
				t.Errorf("res %+v after %d POSTs; want the instance adopted after one", res, f.creates.Load())
			}
			if live := f.live(); len(live) != 1 || live[0].ID != res.ID {
				t.Errorf("live instances %+v, want only %s", live, res.ID)
			}
		})
	}
}

// An undecodable 2xx whose instance never shows is uncertain, never resent.
func TestCreateInstance_undecodableSuccessNotListed(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(false, http.StatusOK, false)) // an empty 200, and nothing made
	_, err := f.client.CreateInstance(context.Background(), createInput())
	var unc *CreateUncertainError
	if !errors.As(err, &unc) || unc.InstanceID != "" || !strings.Contains(err.Error(), CreateTokenKey+" = "+unc.Token) {
		t.Fatalf("err = %v; want an uncertain create that names its token", err)
	}
	if f.creates.Load() != 1 {
		t.Errorf("%d POSTs; a create the API accepted must not be sent again", f.creates.Load())
	}
}

// With max_retries = 0 an unknown outcome is still looked for; a create
// that certainly made nothing fails plainly.
func TestCreateInstance_noRetries(t *testing.T) {
	t.Parallel()
	t.Run("created, then a 503: adopt", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, always(true, 503, false), WithMaxRetries(0))
		res, err := f.client.CreateInstance(context.Background(), createInput())
		if err != nil || !res.Adopted {
			t.Fatalf("res %+v, err %v; want the instance adopted", res, err)
		}
	})
	t.Run("a 503 before anything was made: fail, nothing exists", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, always(false, 503, false), WithMaxRetries(0))
		_, err := f.client.CreateInstance(context.Background(), createInput())
		var unc *CreateUncertainError
		var notMade *CreateNotMadeError
		var unknown *OutcomeUnknownError
		if !errors.As(err, &notMade) || errors.As(err, &unc) || errors.As(err, &unknown) ||
			!strings.Contains(err.Error(), "no retries are left") || !errors.Is(err, ErrServerError) {
			t.Fatalf("err = %v; want a certain failure that says no retries are left", err)
		}
		if f.creates.Load() != 1 || len(f.sim.Instances()) != 0 {
			t.Errorf("%d POSTs, %d instances", f.creates.Load(), len(f.sim.Instances()))
		}
	})
}

// When no listing can be read, nothing is resent and the error says so.
func TestCreateInstance_lookupFailsSoNothingIsResent(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string][2]string{
		"401":               {"401", `{"error_code":"iMetal.0003","error_msg":"token expired"}`},
		"empty document":    {"200", `{}`},
		"null instances":    {"200", `{"instances":null,"count":0}`},
		"short page":        {"200", `{"instances":[],"page_info":{"next_marker":""},"count":3}`},
		"not JSON":          {"200", `<html>maintenance</html>`},
		"empty page marker": {"200", `{"instances":[],"page_info":{"next_marker":"x"},"count":1}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFront(t, always(true, 503, false))
			f.listAnswer.Store(&answer)
			_, err := f.client.CreateInstance(context.Background(), createInput())
			var unc *CreateUncertainError
			var unknown *OutcomeUnknownError
			if !errors.As(err, &unc) || !errors.As(err, &unknown) || unc.Lookup == nil {
				t.Fatalf("error %v should be an uncertain create carrying the unknown outcome and the failed lookup", err)
			}
			if !strings.Contains(err.Error(), `"web-1"`) || !strings.Contains(err.Error(), unc.Token) {
				t.Errorf("the error should name the instance and its create token: %v", err)
			}
			if f.creates.Load() != 1 || len(f.sim.Instances()) != 1 {
				t.Errorf("%d POSTs, %d instances; the create must not be resent when the lookup fails", f.creates.Load(), len(f.sim.Instances()))
			}
		})
	}
}

// An instance that carries the token but differs from what was sent is
// not adopted; the error names it.
func TestCreateInstance_tokenMatchesButFieldsDiffer(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 503, false))
	f.afterCreate = func(id string) {
		_ = f.sim.UpdateInstance(id, func(in *simulator.Instance) { in.Description = "changed by the API" })
	}
	_, err := f.client.CreateInstance(context.Background(), createInput())
	var unc *CreateUncertainError
	if !errors.As(err, &unc) || unc.InstanceID == "" || !strings.Contains(err.Error(), unc.InstanceID) {
		t.Fatalf("err = %v; want an uncertain create naming the instance", err)
	}
	if f.creates.Load() != 1 {
		t.Errorf("%d POSTs; want 1", f.creates.Load())
	}
}

// A create interrupted after its request was written (Ctrl-C, or its
// timeout) still looks briefly, on a fresh context, for what it made.
func TestCreateInstance_interrupted(t *testing.T) {
	t.Parallel()
	t.Run("the instance is found", func(t *testing.T) {
		t.Parallel()
		// The API makes the instance; its answer never comes.
		f := newFront(t, always(true, hang, false))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		res, err := f.client.CreateInstance(ctx, createInput())
		if err != nil || res.ID == "" {
			t.Fatalf("res %+v, err %v; want the instance found after the interruption", res, err)
		}
		if live := f.live(); len(live) != 1 || live[0].ID != res.ID {
			t.Errorf("live instances %+v, want %s", live, res.ID)
		}
	})
	t.Run("nothing is found", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, always(true, 0, false))
		f.sim.SetLatency(simulator.OpCreateInstance, 2*time.Second) // never answered in time, never made
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := f.client.CreateInstance(ctx, createInput())
		var unc *CreateUncertainError
		if !errors.As(err, &unc) || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), unc.Token) {
			t.Fatalf("err = %v; want an uncertain, interrupted create naming its token", err)
		}
	})
}

// The reserved key and the pair it takes are refused before any request.
func TestCreateInstance_reservedMetadata(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 0, false))
	in := createInput()
	in.Metadata = map[string]string{CreateTokenKey: "mine"}
	if _, err := f.client.CreateInstance(context.Background(), in); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("reserved key: err = %v", err)
	}
	in.Metadata = map[string]string{}
	for i := range MaxMetadataPairs {
		in.Metadata[string(rune('a'+i))] = "v"
	}
	if _, err := f.client.CreateInstance(context.Background(), in); err == nil || !strings.Contains(err.Error(), "at most 9") {
		t.Errorf("10 pairs: err = %v", err)
	}
	if f.creates.Load() != 0 {
		t.Errorf("%d POSTs were sent", f.creates.Load())
	}
}

func TestCreateInstance_ordinaryErrorsAreReturned(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 0, false))
	in := createInput()
	in.Password = "short"
	_, err := f.client.CreateInstance(context.Background(), in)
	if !errors.Is(err, ErrBadRequest) || f.creates.Load() != 1 || f.lists.Load() != 0 {
		t.Fatalf("err %v after %d POSTs and %d listings; want one ErrBadRequest and no lookup", err, f.creates.Load(), f.lists.Load())
	}
}

// A create wait that lasts longer than the create's window (as installs
// do) sees the create through: a whole-project listing that started after
// SettleBy showed no other instance with its token, so the caller needs
// to look no more. A wait that ends sooner does not.
func TestWaitForCreate_seesTheWindowThrough(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		install time.Duration
		through bool
	}{{install: 600 * time.Millisecond, through: true}, {install: 5 * time.Millisecond, through: false}} {
		t.Run(tc.install.String(), func(t *testing.T) {
			t.Parallel()
			sim := simulator.StartTest(t, simulator.Options{CreateDuration: tc.install, Retention: time.Hour})
			c, err := NewClient(WithEndpoint(sim.URL), WithProjectID(sim.ProjectID()), WithToken(sim.Token()), WithPollSchedule(simPoll), noRetry,
				WithCreateLookup(CreateLookup{Window: 200 * time.Millisecond, FirstDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Interrupted: time.Second}))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			res, err := c.CreateInstance(ctx, validInput("web"))
			if err != nil {
				t.Fatal(err)
			}
			_, dups, err := c.WaitForCreate(ctx, res)
			if err != nil {
				t.Fatal(err)
			}
			through := dups.Settled() && dups.ListedAt.After(res.SettleBy)
			if through != tc.through {
				t.Errorf("install of %v: seen through = %v (%+v, window ends %v); want %v", tc.install, through, dups, res.SettleBy, tc.through)
			}
		})
	}
}

// Duplicates.Add keeps what both looks found, and the later listing time.
func TestDuplicates_Add(t *testing.T) {
	t.Parallel()
	early, late := time.Unix(100, 0), time.Unix(200, 0)
	d := Duplicates{Deleted: []string{"a"}, ListedAt: early}.Add(Duplicates{Deleting: []string{"b"}, Failed: []string{"c"}, Unsure: true, ListedAt: late})
	if !slices.Equal(d.Deleted, []string{"a"}) || !slices.Equal(d.Deleting, []string{"b"}) || !slices.Equal(d.Failed, []string{"c"}) ||
		!d.Unsure || !d.ListedAt.Equal(late) || d.Settled() {
		t.Errorf("Add = %+v", d)
	}
}
