package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bigSubnet makes room for thousands of instances.
func bigSubnet() []SubnetSpec {
	return []SubnetSpec{{ID: DefaultSubnetID, VPCID: DefaultVPCID, CIDR: netip.MustParsePrefix("10.0.0.0/18")}}
}

// TestScale_concurrentClients: 5,000 instances and 200 clients, each with
// its own http.Client, listing, reading, creating and deleting at once,
// without a single unexpected answer. With -short it is smaller, never
// skipped.
func TestScale_concurrentClients(t *testing.T) {
	t.Parallel()
	instances, clients, rounds := 5000, 200, 3
	if testing.Short() {
		instances, clients = 1000, 50
	}
	start := time.Now()
	sim, c := startSim(t, Options{Servers: instances + 2*clients, Subnets: bigSubnet()})
	ids := c.runN(instances)
	populated := time.Since(start)

	var failures atomic.Int32
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 20 { // enough to diagnose, not a flood
			t.Errorf(format, args...)
		}
	}
	var wg sync.WaitGroup
	for w := range uint64(clients) { // uint64: it seeds each client's random source
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}, Timeout: time.Minute}
			defer client.CloseIdleConnections()
			rng := rand.New(rand.NewPCG(w, 1))
			call := func(method, rel, body string, want int) []byte {
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
				}
				req, _ := http.NewRequestWithContext(t.Context(), method, sim.URL+"/v1/"+DefaultProjectID+rel, rd)
				req.Header.Set("X-Auth-Token", DefaultToken)
				resp, err := client.Do(req)
				if err != nil {
					fail("%s %s: %v", method, rel, err)
					return nil
				}
				b, err := readBody(resp)
				if err != nil || resp.StatusCode != want {
					fail("%s %s: %d %s (%v), want %d", method, rel, resp.StatusCode, b, err, want)
					return nil
				}
				return b
			}
			for range rounds {
				marker := ids[rng.IntN(len(ids)-100)]
				if b := call(http.MethodGet, "/instances?limit=100&marker="+marker, "", 200); b != nil {
					var l wireList
					if err := json.Unmarshal(b, &l); err != nil || len(l.Instances) != 100 || l.Count < instances {
						fail("list after %s: %d instances, count %d (%v)", marker, len(l.Instances), l.Count, err)
					}
				}
				call(http.MethodGet, "/instances/"+ids[rng.IntN(len(ids))]+"/status", "", 200)
				b := call(http.MethodPost, "/instances", bodyWith(func(b map[string]any) { b["name"] = fmt.Sprintf("client-%d", w) }), 200)
				var out struct {
					ID string `json:"instance_id"`
				}
				if b == nil || json.Unmarshal(b, &out) != nil {
					continue
				}
				call(http.MethodGet, "/instances?instance_id="+out.ID, "", 200)
				call(http.MethodGet, "/instances/"+out.ID+"/status", "", 200)
				call(http.MethodDelete, "/instances/"+out.ID, "", 204)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	t.Logf("%d instances created in %v; %d clients × %d rounds done in %v in all", instances, populated, clients, rounds, took)
	if failures.Load() > 0 {
		t.Fatalf("%d requests failed", failures.Load())
	}
	st := sim.Stats()
	wantCreates := clients * rounds
	if st.Requests[OpCreateInstance] != wantCreates || st.Requests[OpDeleteInstance] != wantCreates ||
		st.Requests[OpListInstances] != 2*wantCreates || st.Requests[OpShowInstanceStatus] != 2*wantCreates {
		t.Errorf("requests = %v, want %d creates and deletes, %d lists and status reads", st.Requests, wantCreates, 2*wantCreates)
	}
	// Every client's instance is gone (retention 0); the others are intact.
	if st.Instances["running"] != instances || len(st.Instances) != 1 {
		t.Errorf("instances per state = %v, want %d running", st.Instances, instances)
	}
	if got := len(readyServers(sim)); got != 2*clients {
		t.Errorf("%d ready servers, want %d", got, 2*clients)
	}
}

// TestScale_pagination2500: 2,500 instances in every state, paged through
// with every filter and several page sizes.
func TestScale_pagination2500(t *testing.T) {
	t.Parallel()
	const minute = time.Minute
	clk := newFakeClock()
	sim, c := startSim(t, Options{Now: clk.Now, Servers: 2600, Subnets: bigSubnet(),
		CreateDuration: minute, DeleteDuration: minute, PowerDuration: minute, Retention: time.Hour})
	for range 100 {
		sim.FailNextCreate("iMetal.0099", "hardware check failed")
	}
	ids := c.runN(2400)
	clk.Advance(minute)
	for i := 100; i < 400; i += 50 {
		c.batchDelete(ids[i : i+50]...)
	}
	clk.Advance(minute)
	for i := 400; i < 700; i += 50 {
		var servers []string
		for _, id := range ids[i : i+50] {
			servers = append(servers, serverOf(sim, id))
		}
		c.power(ActionPowerOff, servers...)
	}
	clk.Advance(minute)
	for i := 700; i < 800; i += 50 {
		c.batchDelete(ids[i : i+50]...)
	}
	ids = append(ids, c.runN(100)...)
	stateOf := func(i int) string {
		switch {
		case i < 100:
			return "error"
		case i < 400:
			return "terminated"
		case i < 700:
			return "stopped"
		case i < 800:
			return "shutting-down"
		case i < 2400:
			return "running"
		}
		return "pending"
	}
	if st := sim.Stats().Instances; st["error"] != 100 || st["terminated"] != 300 || st["stopped"] != 300 ||
		st["shutting-down"] != 100 || st["running"] != 1600 || st["pending"] != 100 {
		t.Fatalf("instances per state = %v", st)
	}

	var someIDs, someServers []string
	for i := 3; i < len(ids); i += 25 {
		someIDs = append(someIDs, ids[i])
		someServers = append(someServers, serverOf(sim, ids[i]))
	}
	type filter struct {
		name, query string
		keep        func(i int) bool
	}
	filters := []filter{{"none", "", func(int) bool { return true }}}
	for _, st := range currentFilterStates {
		filters = append(filters, filter{"state " + st, "instance_state=" + st, func(i int) bool { return stateOf(i) == st }})
	}
	filters = append(filters,
		filter{"100 instance IDs", "instance_id=" + strings.Join(someIDs, ","), func(i int) bool { return i%25 == 3 }},
		filter{"100 instance IDs, running", "instance_state=running&instance_id=" + strings.Join(someIDs, ","),
			func(i int) bool { return i%25 == 3 && stateOf(i) == "running" }},
		// A server hosts the instance that terminated on it and the one
		// created on it afterwards.
		filter{"100 server IDs", "server_id=" + strings.Join(someServers, ","), func(i int) bool {
			return slices.Contains(someServers, serverOf(sim, ids[i]))
		}},
		filter{"100 server IDs, stopped", "instance_state=stopped&server_id=" + strings.Join(someServers, ","), func(i int) bool {
			return stateOf(i) == "stopped" && slices.Contains(someServers, serverOf(sim, ids[i]))
		}},
	)
	for _, f := range filters {
		var want []string
		for i, id := range ids {
			if f.keep(i) {
				want = append(want, id)
			}
		}
		for _, limit := range []string{"", "7", "99", "1000", "1001"} {
			t.Run(f.name+"/limit "+limit, func(t *testing.T) {
				t.Parallel()
				size := 10
				switch limit {
				case "99":
					size = 99
				case "1000", "1001":
					size = 1000
				}
				c := c.with(t)
				var got []string
				var starts []string // the first ID of each page
				marker := ""
				for page := 0; ; page++ {
					if page > len(want)/size+1 {
						t.Fatalf("more pages than %d items need", len(want))
					}
					q := []string{}
					if f.query != "" {
						q = append(q, f.query)
					}
					if limit != "" {
						q = append(q, "limit="+limit)
					}
					if marker != "" {
						q = append(q, "marker="+marker)
					}
					l := c.list(strings.Join(q, "&"))
					if l.Count != len(want) {
						t.Fatalf("page %d: count %d, want %d", page, l.Count, len(want))
					}
					if len(l.Instances) != min(size, len(want)-len(got)) {
						t.Fatalf("page %d has %d items, want %d", page, len(l.Instances), min(size, len(want)-len(got)))
					}
					// previous_marker leads to the previous page.
					wantPrev := ""
					if page >= 2 {
						wantPrev = want[(page-1)*size-1]
					}
					if l.PageInfo.PreviousMarker != wantPrev {
						t.Fatalf("page %d: previous_marker %q, want %q", page, l.PageInfo.PreviousMarker, wantPrev)
					}
					if len(l.Instances) > 0 {
						starts = append(starts, l.Instances[0].ID)
					}
					got = append(got, l.ids()...)
					if l.PageInfo.NextMarker == "" {
						break
					}
					marker = l.PageInfo.NextMarker
				}
				if !slices.Equal(got, want) {
					t.Fatalf("paged %d instances, want %d in creation order", len(got), len(want))
				}
				if len(want) > 0 && len(starts) != (len(want)+size-1)/size {
					t.Errorf("%d pages, want %d", len(starts), (len(want)+size-1)/size)
				}
			})
		}
	}
}
