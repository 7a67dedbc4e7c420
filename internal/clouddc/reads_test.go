package clouddc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// readAll reads ids with the given number of workers, as Terraform's
// refresh does with its parallelism.
func readAll(c *Client, ids []string, workers int) (map[string]*Instance, map[string]error) {
	var mu sync.Mutex
	got, errs := map[string]*Instance{}, map[string]error{}
	work := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for id := range work {
				in, err := c.GetInstanceCoalesced(context.Background(), id)
				mu.Lock()
				got[id], errs[id] = in, err
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	return got, errs
}

func TestGetInstanceCoalesced_shareOneCall(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 10})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	ids := createN(t, c, 3)
	gone := "0f0f0f0f-0000-4000-8000-000000000000"
	before := sim.RequestCount(simulator.OpListInstances)
	got, errs := readAll(c, append(ids, gone), 4)
	for i, id := range ids {
		if errs[id] != nil || got[id].ID != id || got[id].Name != fmt.Sprintf("w-%d", i) {
			t.Errorf("read %s: %+v, %v", id, got[id], errs[id])
		}
	}
	if !errors.Is(errs[gone], ErrNotFound) {
		t.Errorf("a missing instance read as %v; want ErrNotFound", errs[gone])
	}
	if n := sim.RequestCount(simulator.OpListInstances) - before; n != 1 {
		t.Errorf("four reads at once made %d calls; want 1", n)
	}
}

func TestGetInstanceCoalesced_refreshOfAThousand(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 1100,
		Subnets: []simulator.SubnetSpec{{ID: simulator.DefaultSubnetID, VPCID: simulator.DefaultVPCID, CIDR: mustPrefix("10.0.0.0/20")}}})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	ids := createN(t, c, 1000)
	if err := sim.RemoveInstance(ids[500]); err != nil {
		t.Fatal(err)
	}
	before := sim.RequestCount(simulator.OpListInstances)
	got, errs := readAll(c, ids, 10)
	for i, id := range ids {
		switch {
		case i == 500 && !errors.Is(errs[id], ErrNotFound):
			t.Errorf("the removed instance read as %v; want ErrNotFound", errs[id])
		case i != 500 && (errs[id] != nil || got[id].ID != id):
			t.Errorf("read %s: %+v, %v", id, got[id], errs[id])
		}
	}
	if n := sim.RequestCount(simulator.OpListInstances) - before; n > 5 {
		t.Errorf("reading 1,000 instances at parallelism 10 made %d calls; want a handful", n)
	}
}

func TestGetInstanceCoalesced_largeProjectsAreReadByID(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 30})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	c.reads.maxSnapshot = 10
	ids := createN(t, c, 20)
	got, errs := readAll(c, ids[:8], 8)
	for _, id := range ids[:8] {
		if errs[id] != nil || got[id].ID != id {
			t.Errorf("read %s: %+v, %v", id, got[id], errs[id])
		}
	}
	if s := c.reads.snap; s != nil {
		t.Errorf("a snapshot of %d instances was kept for a project over the limit", len(s.byID))
	}
}

func TestGetInstanceCoalesced_anErrorFailsOnlyItsOwnReads(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{Servers: 10})
	if err != nil {
		t.Fatal(err)
	}
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && fail.Load() {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error_code":"iMetal.0004","error_msg":"no permission"}`))
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := newWatchClient(t, srv.URL, sim)
	ids := createN(t, c, 4)
	fail.Store(true)
	_, errs := readAll(c, ids[:2], 2)
	for _, id := range ids[:2] {
		if !errors.Is(errs[id], ErrForbidden) {
			t.Errorf("read %s during the failure: %v; want the 403", id, errs[id])
		}
	}
	fail.Store(false)
	time.Sleep(1100 * time.Millisecond) // let the failed batch leave the "refresh under way" window
	got, errs := readAll(c, ids[2:], 2)
	for _, id := range ids[2:] {
		if errs[id] != nil || got[id].ID != id {
			t.Errorf("read %s after the failure: %+v, %v; an earlier call's error must not reach it", id, got[id], errs[id])
		}
	}
}

func TestGetInstanceCoalesced_snapshotExpires(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 10})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	ids := createN(t, c, 6)
	if _, errs := readAll(c, ids, 6); errs[ids[0]] != nil {
		t.Fatal(errs[ids[0]])
	}
	if c.reads.snap == nil {
		t.Fatal("six reads at once did not list the project")
	}
	// A change made after the listing is seen once the listing is old.
	if err := sim.UpdateInstance(ids[0], func(in *simulator.Instance) { in.Description = "changed" }); err != nil {
		t.Fatal(err)
	}
	c.reads.mu.Lock()
	c.reads.snap.taken = time.Now().Add(-snapshotTTL)
	c.reads.mu.Unlock()
	in, err := c.GetInstanceCoalesced(context.Background(), ids[0])
	if err != nil || in.Description != "changed" {
		t.Errorf("read after the listing expired: %+v, %v; want the change", in, err)
	}
}

func TestGetInstanceCoalesced_cancelled(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte(`{"instances":[],"count":0}`))
	}))
	t.Cleanup(slow.Close)
	c := newTestClient(t, slow.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.GetInstanceCoalesced(ctx, testID); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("a cancelled read did not return promptly")
	}
}
