// Package bench measures how quickly and how cheaply the provider notices
// that long-running operations ended, beside the schedules of the anchors
// that platform engineers know: terraform-plugin-sdk's StateChangeConf
// defaults and the HuaweiCloud provider's waits. Everything runs against
// the local simulator, in the same run, so the figures compare like with
// like. bench/main.go prints the table and writes bench/README.md.
package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
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

// Scenario is one destroy measurement.
type Scenario struct {
	Instances   int
	Parallelism int
	// Delete is the real-world duration of a deletion; the simulator runs
	// it scaled down.
	Delete time.Duration
	// RateLimit, when positive, is the simulator's limit in requests per
	// (real-world) second.
	RateLimit float64
}

func (s Scenario) String() string {
	out := fmt.Sprintf("destroy %d, p%d, %s", s.Instances, s.Parallelism, s.Delete)
	if s.RateLimit > 0 {
		out += fmt.Sprintf(", %.0f req/s", s.RateLimit)
	}
	return out
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
	// ListInstances) per deleted instance.
	StatusPerInstance float64
	TotalCalls        int
	RateLimited       int
	Failures          int
}

// Config sets how the harness runs.
type Config struct {
	// Scale shrinks every duration: the simulator's, the schedules' and the
	// retry delays'. 0.02 runs a 60s deletion in 1.2s.
	Scale float64
}

func (c Config) scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * c.Scale) }
func (c Config) unscaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.Scale)
}

// RunDestroy runs one scenario with one scheduler on a fresh simulator.
func (c Config) RunDestroy(ctx context.Context, sc Scenario, scheduler string) (Result, error) {
	sim, err := simulator.New(simulator.Options{
		Servers:        sc.Instances,
		DeleteDuration: c.scaled(sc.Delete),
		Retention:      time.Hour,
		Subnets:        []simulator.SubnetSpec{{ID: simulator.DefaultSubnetID, VPCID: simulator.DefaultVPCID, CIDR: netip.MustParsePrefix("10.0.0.0/16")}},
	})
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = sim.Close() }() // a failed flush of a state file we do not use
	url, stop, err := serve(ctx, sim)
	if err != nil {
		return Result{}, err
	}
	defer stop()

	client, err := c.client(url, sim)
	if err != nil {
		return Result{}, err
	}
	ids, err := seed(ctx, client, sc.Instances)
	if err != nil {
		return Result{}, err
	}
	if sc.RateLimit > 0 {
		// No Retry-After: the simulator sends it in whole seconds, which
		// the scaled run cannot honour; clients back off on their own.
		sim.SetRateLimit(simulator.RateLimit{PerSecond: sc.RateLimit / c.Scale, Burst: int(sc.RateLimit)})
	}
	sim.ResetStats()

	del := c.deleter(scheduler, client)
	noticed := make([]time.Time, len(ids))
	failed := make([]error, len(ids))
	sem := make(chan struct{}, sc.Parallelism)
	var wg sync.WaitGroup
	start := time.Now()
	for i, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			failed[i] = del(ctx, id)
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
	for i, id := range ids {
		if failed[i] != nil {
			res.Failures++
			continue
		}
		tl, ok := sim.Timeline(id)
		at, entered := tl.EnteredAt("terminated")
		if !ok || !entered {
			res.Failures++
			continue
		}
		lags = append(lags, c.unscaled(max(0, noticed[i].Sub(at))))

	}
	res.LagP50, res.LagP95, res.LagMax = percentile(lags, 50), percentile(lags, 95), percentile(lags, 100)
	return res, nil
}

// client is the client every scheduler shares for its HTTP calls: the
// provider's retries and timeouts, scaled like everything else.
func (c Config) client(url string, sim *simulator.Simulator) (*clouddc.Client, error) {
	def := clouddc.DefaultPollSchedule()
	retry := clouddc.DefaultRetryPolicy()
	return clouddc.NewClient(
		clouddc.WithEndpoint(url), clouddc.WithProjectID(sim.ProjectID()), clouddc.WithToken(sim.Token()),
		clouddc.WithPollSchedule(clouddc.PollSchedule{
			Delay: c.scaled(def.Delay), Interval: c.scaled(def.Interval),
			MinInterval: c.scaled(def.MinInterval), MaxInterval: c.scaled(def.MaxInterval),
		}),
		clouddc.WithRetryPolicy(clouddc.RetryPolicy{
			MaxRetries: retry.MaxRetries, BaseDelay: c.scaled(retry.BaseDelay),
			MaxDelay: c.scaled(retry.MaxDelay), MaxRetryAfter: c.scaled(retry.MaxRetryAfter),
		}),
	)
}

// deleter returns how a scheduler deletes one instance and waits for it.
func (c Config) deleter(scheduler string, client *clouddc.Client) func(context.Context, string) error {
	switch scheduler {
	case Provider:
		// Exactly what the provider's Delete does.
		return func(ctx context.Context, id string) error {
			_, err := client.TerminateInstance(ctx, id)
			return err
		}
	case SCC:
		// terraform-plugin-sdk's StateChangeConf without options: refresh
		// at once, then wait 100ms, doubling up to 10s.
		return func(ctx context.Context, id string) error {
			return pollDelete(ctx, client, id, 0, func(prev time.Duration) time.Duration {
				if prev == 0 {
					return c.scaled(100 * time.Millisecond)
				}
				return min(prev*2, c.scaled(10*time.Second))
			})
		}
	default:
		// The HuaweiCloud provider: first look after 10s, then every 10s.
		return func(ctx context.Context, id string) error {
			return pollDelete(ctx, client, id, c.scaled(10*time.Second), func(time.Duration) time.Duration {
				return c.scaled(10 * time.Second)
			})
		}
	}
}

// pollDelete is a per-instance wait of the classic kind: DELETE, then read
// the instance's status on a schedule until it is terminated or gone.
func pollDelete(ctx context.Context, client *clouddc.Client, id string, delay time.Duration, next func(time.Duration) time.Duration) error {
	if err := client.DeleteInstance(ctx, id); err != nil && !errors.Is(err, clouddc.ErrNotFound) {
		return err
	}
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
		case errors.Is(err, clouddc.ErrNotFound):
			return nil
		case err != nil:
			return err
		case st.State == clouddc.StateTerminated:
			return nil
		case st.State == clouddc.StateError:
			return fmt.Errorf("instance %s failed: %v", id, st.Error)
		}
		interval = next(interval)
		wait = interval
	}
}

// seed creates n running instances; creation takes no time in the
// simulator used for a destroy scenario.
func seed(ctx context.Context, client *clouddc.Client, n int) ([]string, error) {
	ids := make([]string, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ids[i], errs[i] = client.CreateInstanceByHand(ctx, clouddc.CreateInstanceInput{
				Name: fmt.Sprintf("bench-%d", i), ImageID: simulator.DefaultImageID, VPCID: simulator.DefaultVPCID,
				Password: "Bench-Passw0rd", NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
			})
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
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100
	return s[min(max(rank, 1), len(s))-1]
}
