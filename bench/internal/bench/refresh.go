package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

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
// anchors with one read per instance.
func (c Config) RunRefresh(ctx context.Context, n int, scheduler string) (RefreshResult, error) {
	sim, err := simulator.New(simulator.Options{Servers: n,
		Subnets: []simulator.SubnetSpec{{ID: simulator.DefaultSubnetID, VPCID: simulator.DefaultVPCID, CIDR: netip.MustParsePrefix("10.0.0.0/16")}}})
	if err != nil {
		return RefreshResult{}, err
	}
	defer func() { _ = sim.Close() }() // a failed flush of a state file we do not use
	url, stop, err := serve(ctx, sim)
	if err != nil {
		return RefreshResult{}, err
	}
	defer stop()
	client, err := c.client(url, sim)
	if err != nil {
		return RefreshResult{}, err
	}
	ids, err := seed(ctx, client, n)
	if err != nil {
		return RefreshResult{}, err
	}
	read := client.GetInstance
	if scheduler == Provider {
		read = client.GetInstanceCoalesced
	}
	sim.ResetStats()
	work := make(chan string)
	var mu sync.Mutex
	res := RefreshResult{Scheduler: scheduler, Instances: n}
	var wg sync.WaitGroup
	start := time.Now()
	for range 10 {
		wg.Go(func() {
			for id := range work {
				in, err := read(ctx, id)
				if err != nil || in.ID != id {
					mu.Lock()
					res.Failures++
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
	res.Wall = time.Since(start)
	for _, v := range sim.Stats().Requests {
		res.Calls += v
	}
	if res.Failures > 0 {
		return res, errors.New("some reads failed")
	}
	return res, nil
}
