package clouddc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

func TestTerminateInstance(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 10, DeleteDuration: 100 * time.Millisecond, Retention: time.Hour})
	c := newWatchClient(t, sim.URL, sim.Simulator)
	ctx := testContext(t, 10*time.Second)
	ids := createN(t, c, 4)
	deletes := func() int { return sim.RequestCount(simulator.OpDeleteInstance) }
	// Each step changes the instance out of band; a listing taken by the
	// step before would not show that (it would cost a harmless DELETE
	// answered 404, which this test counts), so drop it.
	forget := func() {
		c.reads.mu.Lock()
		c.reads.snap = nil
		c.reads.mu.Unlock()
	}

	// Running: one DELETE, then terminated.
	if deleting, err := c.TerminateInstance(ctx, ids[0]); err != nil || !deleting || deletes() != 1 {
		t.Fatalf("running instance: deleting=%v err=%v after %d DELETEs", deleting, err, deletes())
	}
	if in, _ := sim.Instance(ids[0]); in.State != "terminated" {
		t.Errorf("state %s after TerminateInstance", in.State)
	}
	// Already shutting down: no second DELETE, but a wait.
	sim.HoldDeletes(true)
	if err := sim.DeleteInstance(ids[1]); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(300*time.Millisecond, func() { sim.HoldDeletes(false) })
	forget()
	if deleting, err := c.TerminateInstance(ctx, ids[1]); err != nil || !deleting || deletes() != 1 {
		t.Fatalf("shutting-down instance: deleting=%v err=%v after %d DELETEs", deleting, err, deletes())
	}
	// Already gone: success, nothing sent.
	if err := sim.RemoveInstance(ids[2]); err != nil {
		t.Fatal(err)
	}
	forget()
	if deleting, err := c.TerminateInstance(ctx, ids[2]); err != nil || deleting || deletes() != 1 {
		t.Fatalf("gone instance: deleting=%v err=%v after %d DELETEs", deleting, err, deletes())
	}
	// A failed deletion is an error of the wait.
	sim.FailNextDelete("iMetal.0099", "wipe failed")
	deleting, err := c.TerminateInstance(ctx, ids[3])
	var failed *InstanceFailedError
	if !deleting || !errors.As(err, &failed) || failed.Detail.Type != ErrorTypeDelete {
		t.Fatalf("failed deletion: deleting=%v err=%v", deleting, err)
	}
	if _, err := c.TerminateInstance(context.Background(), ids[3]); err != nil {
		t.Fatalf("retrying the failed deletion: %v", err)
	}
}
