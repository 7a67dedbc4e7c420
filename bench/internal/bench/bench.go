// Package bench measures how quickly and how cheaply the provider notices
// that long-running operations ended, beside the schedules of the baselines
// that platform engineers know: terraform-plugin-sdk's StateChangeConf
// defaults and the HuaweiCloud provider's waits; how its costs grow with
// the number of instances and with other Terraform processes sharing the
// project; what certainty costs in a storm of failed creates; and what a
// plan costs beside the framework's floor. Everything runs against the
// local simulator, in the same run, so the figures compare like with like.
// bench/main.go prints the tables and writes bench/README.md.
package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Scheduler names.
const (
	Provider = "this provider"
	SCC      = "StateChangeConf defaults"
	HW       = "HuaweiCloud (10s/10s)"
)

// Schedulers lists the schedulers in the order the report shows them.
var Schedulers = []string{Provider, SCC, HW}

// Operations a scenario measures.
const (
	OpDestroy = "destroy"
	OpCreate  = "create"
)

// Scenario is one measurement: Instances instances created or destroyed
// with Terraform's parallelism.
type Scenario struct {
	Op          string
	Instances   int
	Parallelism int
	// Median is the real-world median duration of the operation; each
	// instance's own is drawn around it (Config.Spread), and the
	// simulator runs it scaled down.
	Median time.Duration
	// RateLimit, when positive, is the simulator's limit in requests per
	// (real-world) second.
	RateLimit float64
}

func (s Scenario) String() string {
	out := fmt.Sprintf("%s %d, p%d, %s", s.Op, s.Instances, s.Parallelism, s.Median)
	if s.RateLimit > 0 {
		out += fmt.Sprintf(", %.0f req/s", s.RateLimit)
	}
	return out
}

// target is the state the scenario's waits end in.
func (s Scenario) target() clouddc.State {
	if s.Op == OpCreate {
		return clouddc.StateRunning
	}
	return clouddc.StateTerminated
}

// Result is what one scheduler did in one scenario. Durations are real-world
// (the scaled measurement divided by the scale).
type Result struct {
	Scenario  Scenario
	Scheduler string
	Wall      time.Duration
	LagP50    time.Duration
	LagP95    time.Duration
	LagMax    time.Duration
	// StatusPerInstance counts status reads (ShowInstanceStatus and
	// ListInstances) per instance.
	StatusPerInstance float64
	// Floor is the status calls per instance of one look a second for as
	// long as any instance is in flight, with the same operations run by
	// a scheduler that notices each end at once: the least a schedule pays
	// that notices every end within a second without knowing when it
	// comes. It depends on the durations drawn, which every scheduler of
	// a scenario shares.
	Floor       float64
	TotalCalls  int
	RateLimited int
	Failures    int
}

// Config sets how the harness runs.
type Config struct {
	// Scale shrinks every duration: the simulator's, the schedules' and the
	// retry delays'. 0.02 runs a 60s deletion in 1.2s.
	Scale float64
	// Spread is how the simulator draws each instance's durations around
	// a scenario's median.
	Spread simulator.Spread
}

func (c Config) scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * c.Scale) }
func (c Config) unscaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.Scale)
}

// benchSubnets is one large subnet, so that 10,000 instances fit.
var benchSubnets = []simulator.SubnetSpec{{ID: simulator.DefaultSubnetID, VPCID: simulator.DefaultVPCID, CIDR: netip.MustParsePrefix("10.0.0.0/16")}}

// rig is a simulator served on a loopback port, and the harness's client
// of it.
type rig struct {
	sim    *simulator.Simulator
	url    string
	client *clouddc.Client
	// stop stops serving and closes the simulator.
	stop func()
}

// start serves a simulator with room for n instances whose creations and
// deletions take create and del (real-world medians, scaled here).
func (c Config) start(ctx context.Context, n int, create, del time.Duration) (*rig, error) {
	sim, err := simulator.New(simulator.Options{
		Servers: n, Retention: 24 * time.Hour, Subnets: benchSubnets, Spread: c.Spread,
		CreateDuration: c.scaled(create), DeleteDuration: c.scaled(del),
	})
	if err != nil {
		return nil, err
	}
	url, stop, err := serve(ctx, sim)
	if err != nil {
		return nil, errors.Join(err, sim.Close())
	}
	r := &rig{sim: sim, url: url, stop: func() { stop(); _ = sim.Close() }} // a failed flush of a state file we do not use
	if r.client, err = c.client(url, sim); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

// env is the environment that points the provider's binary at the rig.
func (r *rig) env() []string {
	return []string{"CLOUDDC_ENDPOINT=" + r.url, "CLOUDDC_PROJECT_ID=" + r.sim.ProjectID(), "CLOUDDC_TOKEN=" + r.sim.Token()}
}

// Run runs one scenario with one scheduler on a fresh simulator.
func (c Config) Run(ctx context.Context, sc Scenario, scheduler string) (Result, error) {
	var create, del time.Duration
	if sc.Op == OpCreate {
		create = sc.Median
	} else {
		del = sc.Median
	}
	rg, err := c.start(ctx, sc.Instances, create, del)
	if err != nil {
		return Result{}, err
	}
	defer rg.stop()
	sim, client := rg.sim, rg.client
	var ids []string
	if sc.Op == OpDestroy {
		if ids, err = seed(ctx, client, sc.Instances); err != nil {
			return Result{}, err
		}
	} else {
		ids = make([]string, sc.Instances)
	}
	if sc.RateLimit > 0 {
		// No Retry-After: the simulator sends it in whole seconds, which
		// the scaled run cannot honour; clients back off on their own.
		sim.SetRateLimit(simulator.RateLimit{PerSecond: sc.RateLimit / c.Scale, Burst: int(sc.RateLimit)})
	}
	sim.ResetStats()

	op := c.operation(sc.Op, scheduler, client)
	noticed := make([]time.Time, len(ids))
	failed := make([]error, len(ids))
	sem := make(chan struct{}, sc.Parallelism)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ids[i], failed[i] = op(ctx, i, ids[i])
			noticed[i] = time.Now()
		})
	}
	wg.Wait()
	wall := time.Since(start)

	stats := sim.Stats()
	res := Result{Scenario: sc, Scheduler: scheduler, Wall: c.unscaled(wall), RateLimited: stats.RateLimited}
	for _, n := range stats.Requests {
		res.TotalCalls += n
	}
	status := stats.Requests[simulator.OpShowInstanceStatus] + stats.Requests[simulator.OpListInstances]
	res.StatusPerInstance = float64(status) / float64(len(ids))
	var lags []time.Duration
	durations := make([]time.Duration, 0, len(ids))
	from := map[string]string{OpCreate: "pending", OpDestroy: "shutting-down"}[sc.Op]
	for i, id := range ids {
		at, ok := reachedAt(sim, id, string(sc.target()))
		if failed[i] != nil || !ok {
			res.Failures++
			continue
		}
		lags = append(lags, c.unscaled(max(0, noticed[i].Sub(at))))
		if began, ok := reachedAt(sim, id, from); ok {
			durations = append(durations, c.unscaled(at.Sub(began)))
		}
	}
	res.LagP50, res.LagP95, res.LagMax = percentile(lags, 50), percentile(lags, 95), percentile(lags, 100)
	res.Floor = makespan(durations, sc.Parallelism).Seconds() / float64(len(ids))
	return res, nil
}

// reachedAt is when the instance entered state in the simulator.
func reachedAt(sim *simulator.Simulator, id, state string) (time.Time, bool) {
	if id == "" {
		return time.Time{}, false
	}
	tl, ok := sim.Timeline(id)
	if !ok {
		return time.Time{}, false
	}
	return tl.EnteredAt(state)
}

// client is the client every scheduler shares for its HTTP calls: the
// provider's retries, timeouts and create lookups, scaled like everything
// else.
func (c Config) client(url string, sim *simulator.Simulator) (*clouddc.Client, error) {
	return c.clientFor(url, sim.ProjectID(), sim.Token())
}

// clientFor is client for a simulator served by another process.
func (c Config) clientFor(url, projectID, token string) (*clouddc.Client, error) {
	def := clouddc.DefaultPollSchedule()
	retry := clouddc.DefaultRetryPolicy()
	lookup := clouddc.DefaultCreateLookup()
	lookup.Window, lookup.FirstDelay = c.scaled(lookup.Window), c.scaled(lookup.FirstDelay)
	lookup.MaxDelay, lookup.Interrupted = c.scaled(lookup.MaxDelay), c.scaled(lookup.Interrupted)
	return clouddc.NewClient(
		clouddc.WithEndpoint(url), clouddc.WithProjectID(projectID), clouddc.WithToken(token),
		clouddc.WithPollSchedule(clouddc.PollSchedule{
			Delay: c.scaled(def.Delay), Interval: c.scaled(def.Interval),
			MinInterval: c.scaled(def.MinInterval), MaxInterval: c.scaled(def.MaxInterval),
		}),
		clouddc.WithRetryPolicy(clouddc.RetryPolicy{
			MaxRetries: retry.MaxRetries, BaseDelay: c.scaled(retry.BaseDelay),
			MaxDelay: c.scaled(retry.MaxDelay), MaxRetryAfter: c.scaled(retry.MaxRetryAfter),
		}),
		clouddc.WithCreateLookup(lookup),
	)
}

// instanceInput is the create of the i-th instance of a run. Names are
// the same in every simulator of a run, so that each instance draws the
// same durations whichever scheduler runs it (simulator.Spread).
func instanceInput(i int) clouddc.CreateInstanceInput {
	return clouddc.CreateInstanceInput{
		Name: fmt.Sprintf("bench-%d", i), ImageID: simulator.DefaultImageID, VPCID: simulator.DefaultVPCID,
		Password: "Bench-Passw0rd", NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
	}
}

// operation returns how a scheduler carries out the scenario's operation
// on the i-th instance (id, for a destroy) and waits for it; it returns
// the instance's ID.
func (c Config) operation(op, scheduler string, client *clouddc.Client) func(ctx context.Context, i int, id string) (string, error) {
	if op == OpCreate {
		if scheduler == Provider {
			// What the resource's Create does: a create that never makes
			// two instances, then the shared, adaptive wait.
			return func(ctx context.Context, i int, _ string) (string, error) {
				res, err := client.CreateInstance(ctx, instanceInput(i))
				if err != nil {
					return res.ID, err
				}
				_, _, err = client.WaitForCreate(ctx, res)
				return res.ID, err
			}
		}
		poll := c.schedule(scheduler)
		return func(ctx context.Context, i int, _ string) (string, error) {
			id, err := client.CreateInstanceByHand(ctx, instanceInput(i))
			if err != nil {
				return id, err
			}
			return id, poll(ctx, client, id, clouddc.StateRunning)
		}
	}
	if scheduler == Provider {
		// Exactly what the provider's Delete does.
		return func(ctx context.Context, _ int, id string) (string, error) {
			_, err := client.TerminateInstance(ctx, id)
			return id, err
		}
	}
	poll := c.schedule(scheduler)
	return func(ctx context.Context, _ int, id string) (string, error) {
		if err := client.DeleteInstance(ctx, id); err != nil && !errors.Is(err, clouddc.ErrNotFound) {
			return id, err
		}
		return id, poll(ctx, client, id, clouddc.StateTerminated)
	}
}

// schedule returns a baseline's per-instance wait.
func (c Config) schedule(scheduler string) func(ctx context.Context, client *clouddc.Client, id string, target clouddc.State) error {
	if scheduler == SCC {
		// terraform-plugin-sdk's StateChangeConf without options: refresh
		// at once, then wait 100ms, doubling up to 10s.
		return func(ctx context.Context, client *clouddc.Client, id string, target clouddc.State) error {
			return pollUntil(ctx, client, id, target, 0, func(prev time.Duration) time.Duration {
				if prev == 0 {
					return c.scaled(100 * time.Millisecond)
				}
				return min(prev*2, c.scaled(10*time.Second))
			})
		}
	}
	// The HuaweiCloud provider: first look after 10s, then every 10s.
	return func(ctx context.Context, client *clouddc.Client, id string, target clouddc.State) error {
		return pollUntil(ctx, client, id, target, c.scaled(10*time.Second), func(time.Duration) time.Duration {
			return c.scaled(10 * time.Second)
		})
	}
}

// pollUntil is a per-instance wait of the classic kind: read the
// instance's status on a schedule until it reaches target (for a
// deletion, also until it is gone).
func pollUntil(ctx context.Context, client *clouddc.Client, id string, target clouddc.State, delay time.Duration, next func(time.Duration) time.Duration) error {
	wait := delay
	var interval time.Duration
	for {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		st, err := client.ShowInstanceStatus(ctx, id)
		switch {
		case errors.Is(err, clouddc.ErrNotFound) && target == clouddc.StateTerminated:
			return nil
		case err != nil:
			return err
		case st.State == target:
			return nil
		case st.State == clouddc.StateError:
			return fmt.Errorf("instance %s failed: %v", id, st.Error)
		}
		interval = next(interval)
		wait = interval
	}
}

// seed creates n running instances, named as instanceInput names them;
// creation takes no time in the simulator of a destroy scenario.
func seed(ctx context.Context, client *clouddc.Client, n int) ([]string, error) {
	ids := make([]string, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ids[i], errs[i] = client.CreateInstanceByHand(ctx, instanceInput(i))
		})
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100
	return s[min(max(rank, 1), len(s))-1]
}
