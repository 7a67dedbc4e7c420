package clouddc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// sharedLookup looks over 300 ms, with listings at least 10 ms apart.
var sharedLookup = CreateLookup{Window: 300 * time.Millisecond, FirstDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
	Interrupted: 300 * time.Millisecond, MinGap: 10 * time.Millisecond}

// TestCreateLookups_shareListings: ten creates refused at once (a 503
// storm before the API acted) look for their instances with shared
// whole-project listings, not ten sets of their own. On their own they
// would make about 80.
func TestCreateLookups_shareListings(t *testing.T) {
	t.Parallel()
	lookup := sharedLookup
	lookup.MinGap = 50 * time.Millisecond
	f := newFront(t, always(false, http.StatusServiceUnavailable, false), WithMaxRetries(0), WithCreateLookup(lookup))
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = f.client.CreateInstance(context.Background(), createInput()) })
	}
	wg.Wait()
	for i, err := range errs {
		var notMade *CreateNotMadeError
		if !errors.As(err, &notMade) {
			t.Fatalf("create %d = %v; want 'made nothing'", i, err)
		}
	}
	// Listings at least 50 ms apart over a 300 ms window (and its last
	// look): at most eight, however many creates are pending.
	if got := f.lists.Load(); got > 8 {
		t.Errorf("%d listings for %d pending creates; want them shared, at most one per %s", got, n, lookup.MinGap)
	}
}

// TestCreateInstance_pinnedServerIsResentAtOnce: for a create that
// asks for a server, the server is the idempotency key, so an unknown
// outcome is resent at once rather than after the window.
func TestCreateInstance_pinnedServerIsResentAtOnce(t *testing.T) {
	t.Parallel()
	slow := CreateLookup{Window: 5 * time.Second, FirstDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Interrupted: time.Second}
	pinned := func(f *front) CreateInstanceInput {
		in := createInput()
		in.Placement = &Placement{ServerID: f.sim.Servers()[3].ID}
		return in
	}

	t.Run("refused before acting: resent, and made once", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, firstThen(false, http.StatusServiceUnavailable, false), WithCreateLookup(slow))
		start := time.Now()
		res, err := f.client.CreateInstance(context.Background(), pinned(f))
		if err != nil || res.Attempts != 2 || res.Adopted {
			t.Fatalf("res %+v, err %v; want a second attempt that made it", res, err)
		}
		if took := time.Since(start); took > slow.Window/2 {
			t.Errorf("the create took %s; a pinned create must not wait out the %s window", took, slow.Window)
		}
		if live := f.live(); len(live) != 1 || live[0].ID != res.ID {
			t.Errorf("live instances %+v; want only %s", live, res.ID)
		}
	})

	t.Run("made, then a 503: the resend finds the server taken, and the first is adopted", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, firstThen(true, http.StatusServiceUnavailable, false), WithCreateLookup(slow))
		start := time.Now()
		res, err := f.client.CreateInstance(context.Background(), pinned(f))
		if err != nil || !res.Adopted || res.Attempts != 2 {
			t.Fatalf("res %+v, err %v; want the first attempt's instance adopted after the resend was refused", res, err)
		}
		if took := time.Since(start); took > slow.Window/2 {
			t.Errorf("the create took %s; want the adoption as soon as the instance is listed", took)
		}
		if live := f.live(); len(live) != 1 || live[0].ID != res.ID {
			t.Errorf("live instances %+v; want only %s", live, res.ID)
		}
	})
}

// TestCreateInstance_cancelledBeforeTheRequestWasWritten: a create
// whose context ends while it waits for the rate limiter sent nothing, so
// it fails plainly, at once, without a lookup or a "may still appear".
func TestCreateInstance_cancelledBeforeTheRequestWasWritten(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 0, false), WithRateLimit(0.5))
	if _, err := f.client.ListInstances(context.Background(), ListInstancesInput{}); err != nil { // takes the limiter's slot
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.client.CreateInstance(ctx, createInput())
	var unc *CreateUncertainError
	if err == nil || errors.As(err, &unc) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want a plain context error (nothing was sent)", err)
	}
	if f.creates.Load() != 0 || f.lists.Load() != 1 {
		t.Errorf("%d POSTs and %d listings; want none besides the test's own listing", f.creates.Load(), f.lists.Load())
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("it took %s; want it to end with its context", took)
	}
}

// TestCreateInstance_oversizedSuccessCountsAsCreated: a 2xx answer
// too large to read still means the API made the instance: it is found
// by its token, never sent again.
func TestCreateInstance_oversizedSuccessCountsAsCreated(t *testing.T) {
	t.Parallel()
	f := newFront(t, firstThen(true, huge, false))
	res, err := f.client.CreateInstance(context.Background(), createInput())
	if err != nil || !res.Adopted || f.creates.Load() != 1 {
		t.Fatalf("res %+v, err %v after %d POSTs; want the instance adopted after one", res, err, f.creates.Load())
	}
}

// TestCreateInstance_adoptKeepsOneAndDeletesEveryOtherHolder: every
// live instance carrying the token was made by this create: the one that
// matches what was sent is kept, the others are deleted, whether or not
// they match.
func TestCreateInstance_adoptKeepsOneAndDeletesEveryOtherHolder(t *testing.T) {
	t.Parallel()
	f := newFront(t, always(true, 0, false))
	ctx := context.Background()
	const token = "0123456789abcdef0123456789abcdef"
	in := createInput()
	in.Metadata = map[string]string{"team": "platform", CreateTokenKey: token}
	other := in
	other.Name = "renamed-by-someone"
	mismatched, err := f.client.postCreate(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := f.client.postCreate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	holders, err := f.client.tokenHolders(ctx, token, time.Now())
	if err != nil || len(holders) != 2 {
		t.Fatalf("token holders %v, %v; want 2", holders, err)
	}
	res, err := f.client.adopt(ctx, CreateResult{Token: token}, in, holders, nil)
	if err != nil || res.ID != kept || !slices.Equal(res.Duplicates.Deleted, []string{mismatched}) {
		t.Fatalf("adopt = %+v, %v; want %s kept and %s deleted", res, err, kept, mismatched)
	}
	if inst, _ := f.sim.Instance(mismatched); inst.State != "shutting-down" && inst.State != "terminated" {
		t.Errorf("the other holder is %q; want its deletion started", inst.State)
	}
}

// TestResolveCreate settles, in a later run, a create whose outcome was
// unknown when its caller gave up.
func TestResolveCreate(t *testing.T) {
	t.Parallel()
	const token = "fedcba9876543210fedcba9876543210"
	withToken := func(in CreateInstanceInput) CreateInstanceInput {
		in.Metadata = map[string]string{"team": "platform", CreateTokenKey: token}
		return in
	}

	t.Run("it lands before the deadline: found", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, always(true, 0, false), WithCreateLookup(sharedLookup))
		in := withToken(createInput())
		landedCh := make(chan string, 1)
		time.AfterFunc(150*time.Millisecond, func() {
			id, _ := f.client.postCreate(context.Background(), in)
			landedCh <- id
		})
		r, err := f.client.ResolveCreate(testContext(t), PendingCreate{Input: in, Deadline: time.Now().Add(2 * time.Second)})
		landed := <-landedCh
		if err != nil || r.Instance == nil || r.Instance.ID != landed || !r.Matches || r.NotMade {
			t.Fatalf("ResolveCreate = %+v, %v; want the instance that landed (%s)", r, err, landed)
		}
	})

	t.Run("nothing by the deadline: not made", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, always(true, 0, false), WithCreateLookup(sharedLookup))
		deadline := time.Now().Add(200 * time.Millisecond)
		r, err := f.client.ResolveCreate(testContext(t), PendingCreate{Input: createInput(), Token: token, Deadline: deadline})
		if err != nil || !r.NotMade || r.Instance != nil {
			t.Fatalf("ResolveCreate = %+v, %v; want not made", r, err)
		}
		if time.Now().Before(deadline) {
			t.Error("it concluded 'not made' before the deadline")
		}
	})

	t.Run("one complete but wrong listing after the deadline: still found", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, always(true, 0, false), WithCreateLookup(sharedLookup))
		in := withToken(createInput())
		id, err := f.client.postCreate(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		// The next listing hides the instance and lowers count with it:
		// no completeness check can tell.
		f.sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, HideItems: 1})
		r, err := f.client.ResolveCreate(testContext(t), PendingCreate{Input: in, Deadline: time.Now()})
		if err != nil || r.NotMade || r.Instance == nil || r.Instance.ID != id {
			t.Fatalf("ResolveCreate = %+v, %v; want %s found by the second listing, not 'not made'", r, err, id)
		}
	})

	t.Run("a holder that differs from what was sent is still the create's", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, always(true, 0, false), WithCreateLookup(sharedLookup))
		in := withToken(createInput())
		other := in
		other.Description = "changed"
		id, err := f.client.postCreate(context.Background(), other)
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.client.ResolveCreate(testContext(t), PendingCreate{Input: in, Deadline: time.Now()})
		if err != nil || r.Instance == nil || r.Instance.ID != id || r.Matches {
			t.Fatalf("ResolveCreate = %+v, %v; want %s, marked as not matching", r, err, id)
		}
	})

	t.Run("no complete listing: an error, never 'not made'", func(t *testing.T) {
		t.Parallel()
		f := newFront(t, always(true, 0, false), WithCreateLookup(sharedLookup))
		f.listAnswer.Store(&[2]string{"200", `{}`})
		r, err := f.client.ResolveCreate(testContext(t), PendingCreate{Input: createInput(), Token: token, Deadline: time.Now()})
		var incomplete *IncompleteListingError
		if r.NotMade || !errors.As(err, &incomplete) {
			t.Fatalf("ResolveCreate = %+v, %v; want an incomplete-listing error", r, err)
		}
	})
}

// TestCreateInstance_interruptedSaysUntilWhen: a create held by the
// API when its caller gives up fails with the deadline until which its
// instance may still appear: the window after the client stopped waiting.
func TestCreateInstance_interruptedSaysUntilWhen(t *testing.T) {
	t.Parallel()
	lookup := sharedLookup
	lookup.Window, lookup.Interrupted = 2*time.Second, 100*time.Millisecond
	f := newFront(t, always(false, hang, false), WithCreateLookup(lookup))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.client.CreateInstance(ctx, createInput())
	var unc *CreateUncertainError
	if !errors.As(err, &unc) || unc.InstanceID != "" {
		t.Fatalf("err = %v; want an uncertain create without an instance", err)
	}
	if d := time.Until(unc.Deadline); d <= lookup.Window-2*lookup.Interrupted || d > lookup.Window {
		t.Errorf("deadline in %s; want the %s window after the interruption", d, lookup.Window)
	}
	if !strings.Contains(err.Error(), "may still appear until") {
		t.Errorf("the error should say until when an instance may appear: %v", err)
	}
}

// TestCreateInstance_refusalAfterAnUnknownOutcomeLooks: a pinned
// create whose resend the API refuses outright, after a first attempt whose
// answer was lost, still finds and adopts the first attempt's instance.
func TestCreateInstance_refusalAfterAnUnknownOutcomeLooks(t *testing.T) {
	t.Parallel()
	f := newFront(t, func(n int) (bool, int, bool) {
		if n == 1 {
			return true, http.StatusServiceUnavailable, false // made, answer lost
		}
		return false, http.StatusBadRequest, false // the resend refused outright
	}, WithCreateLookup(sharedLookup))
	in := createInput()
	in.Placement = &Placement{ServerID: f.sim.Servers()[0].ID}
	res, err := f.client.CreateInstance(context.Background(), in)
	if err != nil || !res.Adopted {
		t.Fatalf("res %+v, err %v; want the first attempt's instance adopted", res, err)
	}
	if live := f.live(); len(live) != 1 || live[0].ID != res.ID {
		t.Errorf("live %+v; want only %s", live, res.ID)
	}
}
