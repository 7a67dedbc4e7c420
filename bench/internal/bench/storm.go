package bench

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// A storm of failed creates: the gateway refuses some creates with a 503
// before the API acted, and answers others with a 504 although the API
// goes on and makes the instance a little later. The provider's create
// must end with exactly one instance per resource; a client that simply
// resends a create that failed ends with the late ones twice.

// Storm is the storm's set-up.
type Storm struct {
	Resources   int
	Parallelism int
	// Refused creates are answered 503 and not carried out; then Late
	// creates are answered 504 and carried out LandAfter later. The
	// creates after those succeed.
	Refused, Late int
	LandAfter     time.Duration
	// Median is the installations' median duration.
	Median time.Duration
}

// Naive is the storm's baseline: a create resent whenever it failed,
// with the provider's back-off, as a client that retries every 5xx does.
const Naive = "resend on failure"

// StormResult is what one scheduler did in the storm. Durations are
// real-world.
type StormResult struct {
	Storm     Storm
	Scheduler string
	// Settled is when every resource held exactly one live instance, all
	// running, and no other instance was left; zero when that never
	// happened within Deadline.
	Settled  time.Duration
	Deadline time.Duration
	// Creates and Lists count CreateInstance and ListInstances requests;
	// Calls every request.
	Creates, Lists, Calls int
	// Extra counts live instances beyond one per resource at the end:
	// duplicates nobody holds, each an installed server.
	Extra    int
	Failures int
}

// RunStorm runs the storm with the provider's create or the naive one.
func (c Config) RunStorm(ctx context.Context, st Storm, scheduler string) (StormResult, error) {
	rg, err := c.start(ctx, st.Resources*2, st.Median, 0)
	if err != nil {
		return StormResult{}, err
	}
	defer rg.stop()
	sim, client := rg.sim, rg.client
	sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, Status: http.StatusServiceUnavailable, Count: st.Refused})
	sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, Status: http.StatusGatewayTimeout, Count: st.Late, Late: c.scaled(st.LandAfter)})

	create := c.operation(OpCreate, Provider, client)
	if scheduler == Naive {
		create = func(ctx context.Context, i int, _ string) (string, error) {
			for {
				id, err := client.CreateInstanceByHand(ctx, instanceInput(i))
				if err == nil {
					return id, pollUntil(ctx, client, id, clouddc.StateRunning, c.scaled(time.Second), func(time.Duration) time.Duration {
						return c.scaled(time.Second)
					})
				}
				if ctx.Err() != nil {
					return "", err
				}
				select {
				case <-ctx.Done():
					return "", ctx.Err()
				case <-time.After(c.scaled(2 * time.Second)):
				}
			}
		}
	}

	res := StormResult{Storm: st, Scheduler: scheduler, Deadline: 15 * time.Minute}
	held := make([]string, st.Resources)
	failed := make([]error, st.Resources)
	runCtx, cancel := context.WithTimeout(ctx, c.scaled(res.Deadline))
	defer cancel()
	sem := make(chan struct{}, st.Parallelism)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range held {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			held[i], failed[i] = create(runCtx, i, "")
		})
	}
	wg.Wait()
	// Settled: one live instance per resource, running, and nothing
	// else live. Late creates and the deletion of duplicates may still be
	// under way when the last create returns, so look until the deadline.
	for {
		if settled(sim, held) {
			res.Settled = c.unscaled(time.Since(start))
			break
		}
		if runCtx.Err() != nil {
			break
		}
		time.Sleep(c.scaled(100 * time.Millisecond))
	}
	for _, err := range failed {
		if err != nil {
			res.Failures++
		}
	}
	live, holding := 0, 0
	for _, in := range sim.Instances() {
		if in.State != "terminated" && in.State != "shutting-down" {
			live++
		}
	}
	for _, id := range held {
		if id != "" {
			holding++
		}
	}
	res.Extra = max(0, live-holding)
	stats := sim.Stats()
	res.Creates, res.Lists = stats.Requests[simulator.OpCreateInstance], stats.Requests[simulator.OpListInstances]
	for _, n := range stats.Requests {
		res.Calls += n
	}
	if res.Failures == st.Resources {
		return res, errors.Join(failed...)
	}
	return res, nil
}

// settled reports whether each resource holds a running instance and no
// other instance is live (not shutting down or terminated).
func settled(sim *simulator.Simulator, held []string) bool {
	want := make(map[string]bool, len(held))
	for _, id := range held {
		if id == "" {
			return false
		}
		want[id] = true
	}
	for _, in := range sim.Instances() {
		switch {
		case in.State == "terminated" || in.State == "shutting-down":
		case !want[in.ID] || in.State != "running":
			return false
		default:
			delete(want, in.ID)
		}
	}
	return len(want) == 0
}
