package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// serve serves a simulator on a loopback port.
func serve(ctx context.Context, sim *simulator.Simulator) (url string, stop func(), err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// RefreshResult is one scheduler's refresh of many instances.
type RefreshResult struct {
	Scheduler string
	Instances int
	Wall      time.Duration
	Calls     int
	Failures  int
}

// RunRefresh reads n instances with Terraform's default parallelism of
// ten, the way a refresh does: the provider with its coalesced reads, the
// baselines with one read per instance.
func (c Config) RunRefresh(ctx context.Context, n int, scheduler string) (RefreshResult, error) {
	rg, err := c.start(ctx, n, 0, 0)
	if err != nil {
		return RefreshResult{}, err
	}
	defer rg.stop()
	sim, client := rg.sim, rg.client
	ids, err := seed(ctx, client, n)
	if err != nil {
		return RefreshResult{}, err
	}
	sim.ResetStats()
	read := client.GetInstance
	if scheduler == Provider {
		read = client.GetInstanceCoalesced
	}
	start := time.Now()
	failures := readAll(ctx, read, ids, 10)
	res := RefreshResult{Scheduler: scheduler, Instances: n, Wall: time.Since(start), Failures: failures}
	for _, v := range sim.Stats().Requests {
		res.Calls += v
	}
	if res.Failures > 0 {
		return res, errors.New("some reads failed")
	}
	return res, nil
}

// readAll reads every instance with parallelism readers, as a refresh
// does, and returns how many reads failed or answered another instance.
func readAll(ctx context.Context, read func(context.Context, string) (*clouddc.Instance, error), ids []string, parallelism int) int {
	work := make(chan string)
	var mu sync.Mutex
	failures := 0
	var wg sync.WaitGroup
	for range parallelism {
		wg.Go(func() {
			for id := range work {
				in, err := read(ctx, id)
				if err != nil || in.ID != id {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	return failures
}
