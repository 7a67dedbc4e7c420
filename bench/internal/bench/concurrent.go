package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clitest"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Several Terraform processes share one project (HCP Terraform, Atlantis
// or a CI matrix run many workspaces at once against one account), and so
// one rate limit that none of them can see. This runs real terraform
// destroy processes with the provider's binary, in real time: the
// provider's schedule cannot be scaled from outside.

// Concurrent is the set-up: Processes workspaces of Instances instances
// each, destroyed at once with Terraform's Parallelism under one
// RateLimit (requests per second, for the one token they share).
type Concurrent struct {
	Processes   int
	Instances   int
	Parallelism int
	RateLimit   float64
	Median      time.Duration
}

// ConcurrentResult is what the destroys did together.
type ConcurrentResult struct {
	Concurrent
	// Wall is the longest destroy's time.
	Wall                   time.Duration
	LagP50, LagP95, LagMax time.Duration
	StatusPerInstance      float64
	Calls, RateLimited     int
	// Failures counts the instances that a destroy did not report
	// destroyed, or that are not terminated.
	Failures int
	// PeakRSS is the largest peak resident memory of the provider
	// processes, in bytes (0 where /proc does not say).
	PeakRSS int64
}

// RunConcurrent applies the workspaces, then destroys them all at once.
func (tf *Terraform) RunConcurrent(ctx context.Context, spread simulator.Spread, cc Concurrent) (ConcurrentResult, error) {
	res := ConcurrentResult{Concurrent: cc}
	rg, err := Config{Scale: 1, Spread: spread}.start(ctx, cc.Processes*cc.Instances, 0, cc.Median)
	if err != nil {
		return res, err
	}
	defer rg.stop()
	sim, env := rg.sim, rg.env()
	dirs := make([]string, cc.Processes)
	for k := range dirs {
		if dirs[k], err = tf.workdir(fmt.Sprintf("concurrent-%d", k), clitest.FleetHCL(fmt.Sprintf("w%d", k), cc.Instances)); err != nil {
			return res, err
		}
	}
	errs := make([]error, cc.Processes)
	var wg sync.WaitGroup
	for k, w := range dirs {
		wg.Go(func() {
			_, errs[k] = tf.run(ctx, w, env, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=50")
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return res, err
		}
	}

	sim.SetRateLimit(simulator.RateLimit{PerSecond: cc.RateLimit, Burst: int(cc.RateLimit)})
	sim.ResetStats()
	outs := make([][]byte, cc.Processes)
	walls := make([]time.Duration, cc.Processes)
	rss := make([]int64, cc.Processes)
	for k, w := range dirs {
		wg.Go(func() {
			outs[k], walls[k], rss[k], errs[k] = tf.destroyJSON(ctx, w, env, cc.Parallelism)
		})
	}
	wg.Wait()
	stats := sim.Stats()
	res.RateLimited = stats.RateLimited
	for _, n := range stats.Requests {
		res.Calls += n
	}
	total := cc.Processes * cc.Instances
	res.StatusPerInstance = float64(stats.Requests[simulator.OpShowInstanceStatus]+stats.Requests[simulator.OpListInstances]) / float64(total)
	for k := range dirs {
		res.Wall = max(res.Wall, walls[k])
		res.PeakRSS = max(res.PeakRSS, rss[k])
	}

	terminated := map[string]time.Time{}
	for _, in := range sim.Instances() {
		if at, ok := reachedAt(sim, in.ID, "terminated"); ok {
			terminated[in.Name] = at
		}
	}
	var lags []time.Duration
	for k, out := range outs {
		done := destroyedAt(out)
		for i := range cc.Instances {
			name := fmt.Sprintf("w%d-%d", k, i)
			seen, ok1 := done[i]
			at, ok2 := terminated[name]
			if errs[k] != nil || !ok1 || !ok2 {
				res.Failures++
				continue
			}
			lags = append(lags, max(0, seen.Sub(at)))
		}
	}
	res.LagP50, res.LagP95, res.LagMax = percentile(lags, 50), percentile(lags, 95), percentile(lags, 100)
	return res, nil
}

// destroyJSON runs terraform destroy with machine-readable output, and
// returns that output, its wall time and the provider's peak memory.
func (tf *Terraform) destroyJSON(ctx context.Context, work string, env []string, parallelism int) ([]byte, time.Duration, int64, error) {
	cmd := tf.command(ctx, work, env, "destroy", "-auto-approve", "-input=false", "-json", fmt.Sprintf("-parallelism=%d", parallelism))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, 0, err
	}
	watch := watchChildren(cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	peak := watch()
	if err != nil {
		return stdout.Bytes(), wall, peak, fmt.Errorf("terraform destroy: %w\n%s%s", err, tail(stdout.String()), stderr.String())
	}
	return stdout.Bytes(), wall, peak, nil
}

var fleetIndex = regexp.MustCompile(`^clouddc_instance\.fleet\[(\d+)\]$`)

// destroyedAt reads when terraform destroy reported each fleet[i]
// destroyed, from its -json output's apply_complete messages.
func destroyedAt(out []byte) map[int]time.Time {
	done := map[int]time.Time{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var msg struct {
			Timestamp string `json:"@timestamp"`
			Type      string `json:"type"`
			Hook      struct {
				Resource struct {
					Addr string `json:"addr"`
				} `json:"resource"`
				Action string `json:"action"`
			} `json:"hook"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil || msg.Type != "apply_complete" || msg.Hook.Action != "delete" {
			continue
		}
		m := fleetIndex.FindStringSubmatch(msg.Hook.Resource.Addr)
		at, err := time.Parse(time.RFC3339Nano, msg.Timestamp)
		if m == nil || err != nil {
			continue
		}
		i, _ := strconv.Atoi(m[1]) // the pattern holds digits only
		done[i] = at
	}
	return done
}

// watchChildren follows the child processes of pid (the provider that
// Terraform starts) and returns a function that stops watching and
// reports the largest peak resident memory (VmHWM) seen, in bytes. It
// reads /proc, so elsewhere it reports 0.
func watchChildren(pid int) func() int64 {
	var mu sync.Mutex
	var peak int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, child := range childrenOf(pid) {
				if hwm := vmHWM(child); hwm > 0 {
					mu.Lock()
					peak = max(peak, hwm)
					mu.Unlock()
				}
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func childrenOf(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t) //nolint:gosec // G304: a /proc file
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// vmHWM is a process's peak resident memory in bytes, from /proc.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
