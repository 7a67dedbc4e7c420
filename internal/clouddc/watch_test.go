package clouddc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// watchPoll polls every 40ms, and as often as every 20ms when many waits
// share the sweeps.
var watchPoll = PollSchedule{Delay: 40 * time.Millisecond, Interval: 40 * time.Millisecond, MinInterval: 20 * time.Millisecond, MaxInterval: 200 * time.Millisecond}

func newWatchClient(t *testing.T, url string, sim *simulator.Simulator) *Client {
	t.Helper()
	c, err := NewClient(WithEndpoint(url), WithProjectID(sim.ProjectID()), WithToken(sim.Token()),
		WithPollSchedule(watchPoll), WithRetryPolicy(RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func createN(t *testing.T, c *Client, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		id, err := c.CreateInstanceByHand(context.Background(), CreateInstanceInput{
			Name: fmt.Sprintf("w-%d", i), ImageID: simulator.DefaultImageID, VPCID: simulator.DefaultVPCID, Password: "Secret-123x",
			NetworkInterfaces: []NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

// waitAll runs wait for every ID at once and returns the results by ID.
func waitAll(ctx context.Context, ids []string, wait func(context.Context, string) (*InstanceStatus, error)) (map[string]*InstanceStatus, map[string]error) {
	var mu sync.Mutex
	sts, errs := map[string]*InstanceStatus{}, map[string]error{}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			st, err := wait(ctx, id)
			mu.Lock()
			sts[id], errs[id] = st, err
			mu.Unlock()
		})
	}
	wg.Wait()
	return sts, errs
}

func TestWatcher_coalescesWaitsIntoFewSweeps(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 40, CreateDuration: 300 * time.Millisecond, DeleteDuration: 300 * time.Millisecond})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	ids := createN(t, c, 30)
	before := sim.RequestCounts()
	sts, errs := waitAll(testContextFor(t, 10*time.Second), ids, c.WaitForInstanceRunning)
	for _, id := range ids {
		if errs[id] != nil || sts[id].State != StateRunning {
			t.Fatalf("wait for %s: %+v, %v", id, sts[id], errs[id])
		}
	}
	after := sim.RequestCounts()
	sweeps := after[simulator.OpListInstances] - before[simulator.OpListInstances]
	if polls := after[simulator.OpShowInstanceStatus] - before[simulator.OpShowInstanceStatus]; polls != 0 {
		t.Errorf("%d per-instance status calls; want none", polls)
	}
	// 300ms at one sweep per 40ms is about 8 sweeps for all 30 waits;
	// per-instance polling would have made about 240 calls.
	if sweeps < 1 || sweeps > 15 {
		t.Errorf("%d list sweeps for 30 waits of 300ms", sweeps)
	}
}

func TestWatcher_eachWaitGetsItsOwnInstance(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 10, CreateDuration: 200 * time.Millisecond})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	good := createN(t, c, 2)
	sim.FailNextCreate("iMetal.0099", "disk not found")
	bad := createN(t, c, 1)[0]
	ids := []string{good[0], bad, good[1]}
	sts, errs := waitAll(testContextFor(t, 10*time.Second), ids, c.WaitForInstanceRunning)
	for _, id := range good {
		if errs[id] != nil || sts[id].State != StateRunning {
			t.Errorf("%s: %+v, %v; want running", id, sts[id], errs[id])
		}
	}
	var failed *InstanceFailedError
	if !errors.As(errs[bad], &failed) || failed.InstanceID != bad || failed.Detail == nil || failed.Detail.Message != "disk not found" {
		t.Errorf("%s: %v; want its own creation failure", bad, errs[bad])
	}
}

func TestWatcher_anErrorReachesOnlyItsOwnCallers(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{Servers: 160, CreateDuration: 200 * time.Millisecond,
		Subnets: []simulator.SubnetSpec{{ID: simulator.DefaultSubnetID, VPCID: simulator.DefaultVPCID, CIDR: mustPrefix("10.0.0.0/22")}}})
	if err != nil {
		t.Fatal(err)
	}
	var poison string
	var mu sync.Mutex
	failedIDs := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("instance_id")
		mu.Lock()
		p := poison
		mu.Unlock()
		if r.Method == http.MethodGet && p != "" && strings.Contains(q, p) {
			mu.Lock()
			for _, id := range strings.Split(q, ",") {
				failedIDs[id] = true
			}
			mu.Unlock()
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error_code":"iMetal.0004","error_msg":"no permission"}`))
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := newWatchClient(t, srv.URL, sim)
	ids := createN(t, c, 150) // two sweep calls of up to 100 IDs
	mu.Lock()
	poison = ids[0]
	mu.Unlock()
	_, errs := waitAll(testContextFor(t, 10*time.Second), ids, c.WaitForInstanceRunning)
	mu.Lock()
	defer mu.Unlock()
	if len(failedIDs) == 0 || len(failedIDs) == len(ids) {
		t.Fatalf("%d of %d IDs were in failed calls; the test needs some of each", len(failedIDs), len(ids))
	}
	for _, id := range ids {
		got := errs[id]
		switch {
		case failedIDs[id] && !errors.Is(got, ErrForbidden):
			t.Errorf("%s was in the failed call but got %v", id, got)
		case !failedIDs[id] && got != nil:
			t.Errorf("%s was not in the failed call but got %v", id, got)
		}
	}
}

func TestWatcher_cancellingOneWaitLeavesTheOthers(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 10, CreateDuration: 400 * time.Millisecond})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	ids := createN(t, c, 4)
	cancelled, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	var wg sync.WaitGroup
	var cancelledErr error
	wg.Go(func() { _, cancelledErr = c.WaitForInstanceRunning(cancelled, ids[0]) })
	sts, errs := waitAll(testContextFor(t, 10*time.Second), ids[1:], c.WaitForInstanceRunning)
	wg.Wait()
	var waitErr *WaitError
	if !errors.As(cancelledErr, &waitErr) || !errors.Is(cancelledErr, context.Canceled) || waitErr.LastState != StatePending {
		t.Errorf("the cancelled wait ended with %v; want a cancellation after seeing pending", cancelledErr)
	}
	for _, id := range ids[1:] {
		if errs[id] != nil || sts[id].State != StateRunning {
			t.Errorf("%s: %+v, %v; the other waits must go on", id, sts[id], errs[id])
		}
	}
}

func TestWatcher_learnsHowLongOperationsTake(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 20, CreateDuration: time.Millisecond, DeleteDuration: 600 * time.Millisecond})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	ctx := testContextFor(t, 20*time.Second)
	ids := createN(t, c, 8)
	if _, errs := waitAll(ctx, ids, c.WaitForInstanceRunning); slices.ContainsFunc(ids, func(id string) bool { return errs[id] != nil }) {
		t.Fatal("creation failed")
	}
	deleteBatch := func(batch []string) (sweeps int, lag time.Duration) {
		for _, id := range batch {
			if err := c.DeleteInstance(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		before := sim.RequestCount(simulator.OpListInstances)
		_, errs := waitAll(ctx, batch, c.WaitForInstanceTerminated)
		noticed := time.Now()
		for _, id := range batch {
			if errs[id] != nil {
				t.Fatal(errs[id])
			}
			tl, _ := sim.Timeline(id)
			at, ok := tl.EnteredAt("terminated")
			if !ok {
				t.Fatalf("%s never became terminated", id)
			}
			lag = max(lag, noticed.Sub(at))
		}
		return sim.RequestCount(simulator.OpListInstances) - before, lag
	}
	first, _ := deleteBatch(ids[:4]) // nothing learned: a sweep every 40ms for 600ms
	// Learned: early looks every MaxInterval until 3/4 of the 600ms seen,
	// then a sweep every 40ms: about half as many.
	second, lag := deleteBatch(ids[4:])
	t.Logf("first batch %d sweeps, second %d, lag %v", first, second, lag)
	if first < 10 {
		t.Errorf("the first batch took %d sweeps; the schedule is not what this test assumes", first)
	}
	if second*3 > first*2 {
		t.Errorf("the second batch took %d sweeps after the first took %d; the learned duration was not used", second, first)
	}
	if lag > 300*time.Millisecond {
		t.Errorf("the second batch was noticed %v after it ended", lag)
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
