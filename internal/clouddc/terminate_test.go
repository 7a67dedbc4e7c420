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
	ctx := testContextFor(t, 10*time.Second)
	ids := createN(t, c, 4)
	deletes := func() int { return sim.RequestCount(simulator.OpDeleteInstance) }
	shutdowns := func(id string) (n int, terminated time.Time) {
		tl, _ := sim.Timeline(id)
		for _, ch := range tl.History {
			if ch.State == "shutting-down" {
				n++
			}
		}
		terminated, _ = tl.EnteredAt("terminated")
		return n, terminated
	}

	// Running: one DELETE, then terminated.
	if accepted, err := c.TerminateInstance(ctx, ids[0]); err != nil || !accepted || deletes() != 1 {
		t.Fatalf("running instance: accepted=%v err=%v after %d DELETEs", accepted, err, deletes())
	}
	if in, _ := sim.Instance(ids[0]); in.State != "terminated" {
		t.Errorf("state %s after TerminateInstance", in.State)
	}
	// Already shutting down: the deletion under way is waited for, not
	// started again: one shutdown, ending when the first one was due.
	started := time.Now()
	if err := sim.DeleteInstance(ids[1]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if accepted, err := c.TerminateInstance(ctx, ids[1]); err != nil || !accepted {
		t.Fatalf("shutting-down instance: accepted=%v err=%v", accepted, err)
	}
	if n, at := shutdowns(ids[1]); n != 1 || at.Sub(started) > 140*time.Millisecond {
		t.Errorf("%d shutdowns, terminated %v after the first DELETE; want one, after about 100ms", n, at.Sub(started))
	}
	// Already gone: success.
	if err := sim.RemoveInstance(ids[2]); err != nil {
		t.Fatal(err)
	}
	if accepted, err := c.TerminateInstance(ctx, ids[2]); err != nil || accepted {
		t.Fatalf("gone instance: accepted=%v err=%v", accepted, err)
	}
	// A failed deletion is an error of the wait.
	sim.FailNextDelete("iMetal.0099", "wipe failed")
	accepted, err := c.TerminateInstance(ctx, ids[3])
	var failed *InstanceFailedError
	if !accepted || !errors.As(err, &failed) || failed.Detail.Type != ErrorTypeDelete {
		t.Fatalf("failed deletion: accepted=%v err=%v", accepted, err)
	}
	if _, err := c.TerminateInstance(context.Background(), ids[3]); err != nil {
		t.Fatalf("retrying the failed deletion: %v", err)
	}
}
