package bench

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// How the cost grows with the number of instances. The provider's side of
// each run (the client code its Delete and Read run) works in a process
// of its own, the worker, so that its peak memory is its own and not the
// simulator's; the simulator stays in the harness, which reads from it
// when each instance ended.

// GrowthRow is one size of the growth measurement.
type GrowthRow struct {
	Op          string // OpDestroy or OpRefresh
	Instances   int
	Parallelism int
	// Median is the deletions' median duration (destroy only).
	Median time.Duration
	// Wall is the real-world time from the first request to the last
	// wait's return.
	Wall time.Duration
	// Limit is what a scheduler that noticed every end the moment it
	// happened would take with the same deletions, started in the same
	// order with the same parallelism: ceil(N/p)·T when every deletion
	// takes T.
	Limit time.Duration
	// Equal is ceil(N/p)·Median: the limit if every deletion took the
	// median.
	Equal             time.Duration
	LagP95            time.Duration
	StatusPerInstance float64
	CallsPerInstance  float64
	// PeakRSS is the worker's peak resident memory, in bytes.
	PeakRSS  int64
	Failures int
}

// OpRefresh is the growth measurement of reads.
const OpRefresh = "refresh"

// workerJob is what the harness asks a worker to do.
type workerJob struct {
	Op          string
	URL         string
	ProjectID   string
	Token       string
	IDs         []string
	Parallelism int
	Scale       float64
}

// workerResult is what the worker did: when each wait (or read) returned,
// in Unix nanoseconds, and its error.
type workerResult struct {
	Start, End int64
	Noticed    []int64
	Errors     []string
	// PeakRSS is the worker's own peak resident memory in bytes, from
	// /proc/self (0 elsewhere). The exit status's maximum resident set is
	// no use on Linux: a child started by fork and exec counts the
	// harness's memory at the fork, simulator and all.
	PeakRSS int64
}

// RunGrowth destroys or reads n instances with the provider's client code
// in a worker process, at parallelism p (destroy: each deletion's median
// duration is median).
func (c Config) RunGrowth(ctx context.Context, op string, n, p int, median time.Duration) (GrowthRow, error) {
	var del time.Duration
	if op == OpDestroy {
		del = median
	}
	rg, err := c.start(ctx, n, 0, del)
	if err != nil {
		return GrowthRow{}, err
	}
	defer rg.stop()
	sim, url, client := rg.sim, rg.url, rg.client
	ids, err := seed(ctx, client, n)
	if err != nil {
		return GrowthRow{}, err
	}
	sim.ResetStats()

	job := workerJob{Op: op, URL: url, ProjectID: sim.ProjectID(), Token: sim.Token(), IDs: ids, Parallelism: p, Scale: c.Scale}
	out, rss, err := runWorker(ctx, job)
	if err != nil {
		return GrowthRow{}, err
	}
	row := GrowthRow{Op: op, Instances: n, Parallelism: p, Median: median, PeakRSS: rss,
		Wall: time.Duration(out.End - out.Start)}
	if op == OpDestroy {
		row.Wall = c.unscaled(row.Wall)
	}
	stats := sim.Stats()
	total := 0
	for _, v := range stats.Requests {
		total += v
	}
	row.CallsPerInstance = float64(total) / float64(n)
	row.StatusPerInstance = float64(stats.Requests["ShowInstanceStatus"]+stats.Requests["ListInstances"]) / float64(n)
	for _, e := range out.Errors {
		if e != "" {
			row.Failures++
		}
	}
	if op != OpDestroy {
		return row, nil
	}
	durations := make([]time.Duration, len(ids))
	var lags []time.Duration
	for i, id := range ids {
		tl, ok := sim.Timeline(id)
		from, ok1 := tl.EnteredAt("shutting-down")
		to, ok2 := tl.EnteredAt("terminated")
		if !ok || !ok1 || !ok2 {
			row.Failures++
			continue
		}
		durations[i] = c.unscaled(to.Sub(from))
		lags = append(lags, c.unscaled(max(0, time.Unix(0, out.Noticed[i]).Sub(to))))
	}
	row.LagP95 = percentile(lags, 95)
	row.Limit = makespan(durations, p)
	row.Equal = time.Duration((n+p-1)/p) * median
	return row, nil
}

// makespan is how long p workers take for tasks of these durations, each
// worker taking the next task the moment it is free: the destroy of an
// ideal scheduler, which notices every end at once.
func makespan(durations []time.Duration, p int) time.Duration {
	free := make(durationHeap, min(p, len(durations)))
	var end time.Duration
	for _, d := range durations {
		start := free[0]
		free[0] = start + d
		heap.Fix(&free, 0)
		end = max(end, start+d)
	}
	return end
}

type durationHeap []time.Duration

func (h durationHeap) Len() int           { return len(h) }
func (h durationHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h durationHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *durationHeap) Push(x any)        { *h = append(*h, x.(time.Duration)) } //nolint:forcetypeassert // container/heap hands back what was pushed
func (h *durationHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// WorkerFlag, as the first argument, runs the benchmark binary as a worker
// (Worker) rather than as the harness.
const WorkerFlag = "-worker"

// runWorker runs a job in a new process of this binary and returns its
// result and its peak resident memory in bytes.
func runWorker(ctx context.Context, job workerJob) (workerResult, int64, error) {
	self, err := os.Executable()
	if err != nil {
		return workerResult{}, 0, err
	}
	in, err := json.Marshal(job)
	if err != nil {
		return workerResult{}, 0, err
	}
	cmd := exec.CommandContext(ctx, self, WorkerFlag) //nolint:gosec // G204: this very binary
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return workerResult{}, 0, fmt.Errorf("the worker failed: %w\n%s", err, tail(stderr.String()))
	}
	var res workerResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, 0, fmt.Errorf("the worker's answer: %w", err)
	}
	if len(res.Noticed) != len(job.IDs) || len(res.Errors) != len(job.IDs) {
		return res, 0, errors.New("the worker answered for another number of instances")
	}
	if res.PeakRSS > 0 {
		return res, res.PeakRSS, nil
	}
	return res, peakRSS(cmd.ProcessState), nil
}

// Worker runs the job the harness writes to in and writes the result to
// out: the provider's Delete (TerminateInstance) or Read
// (GetInstanceCoalesced) for each instance, at the job's parallelism.
func Worker(ctx context.Context, in io.Reader, out io.Writer) error {
	var job workerJob
	if err := json.NewDecoder(in).Decode(&job); err != nil {
		return err
	}
	c := Config{Scale: job.Scale}
	client, err := c.clientFor(job.URL, job.ProjectID, job.Token)
	if err != nil {
		return err
	}
	res := workerResult{Noticed: make([]int64, len(job.IDs)), Errors: make([]string, len(job.IDs))}
	do := func(ctx context.Context, id string) error {
		_, err := client.TerminateInstance(ctx, id)
		return err
	}
	if job.Op == OpRefresh {
		do = func(ctx context.Context, id string) error {
			inst, err := client.GetInstanceCoalesced(ctx, id)
			if err == nil && inst.ID != id {
				err = fmt.Errorf("read %s, got %s", id, inst.ID)
			}
			return err
		}
	}
	sem := make(chan struct{}, job.Parallelism)
	var wg sync.WaitGroup
	res.Start = time.Now().UnixNano()
	for i, id := range job.IDs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := do(ctx, id); err != nil {
				res.Errors[i] = err.Error()
			}
			res.Noticed[i] = time.Now().UnixNano()
		})
	}
	wg.Wait()
	res.End = time.Now().UnixNano()
	res.PeakRSS = vmHWM(os.Getpid())
	return json.NewEncoder(out).Encode(res)
}
