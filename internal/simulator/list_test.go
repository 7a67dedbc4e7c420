package simulator

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// createN creates n instances and returns their IDs in creation order.
func createN(c *apiClient, n int) []string {
	c.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = c.createWith(func(b map[string]any) { b["name"] = fmt.Sprintf("vm-%04d", i) })
	}
	return ids
}

func TestSimulator_listPageSize(t *testing.T) {
	t.Parallel()
	// 1005 instances, so that the cap at 1000 shows; a /20 has room for them.
	const n = 1005
	_, c := startSim(t, Options{Servers: n, Subnets: []SubnetSpec{{ID: DefaultSubnetID, VPCID: DefaultVPCID,
		CIDR: netip.MustParsePrefix("10.0.0.0/20")}}})
	ids := createN(c, n)

	tests := []struct {
		query string
		want  int
	}{
		{"", 10},
		{"limit=", 10},
		{"limit=1", 10},
		{"limit=9", 10},
		{"limit=0", 10},
		{"limit=-5", 10},
		{"limit=10", 10},
		{"limit=11", 11},
		{"limit=999", 999},
		{"limit=1000", 1000},
		{"limit=1001", 1000},
		{"limit=100000", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			l := c.with(t).list(tt.query)
			if len(l.Instances) != tt.want || l.PageInfo.CurrentCount != tt.want {
				t.Errorf("page of %d (current_count %d), want %d", len(l.Instances), l.PageInfo.CurrentCount, tt.want)
			}
			if l.Count != n {
				t.Errorf("count = %d, want %d", l.Count, n)
			}
			if !slices.Equal(l.ids(), ids[:tt.want]) {
				t.Errorf("the first page is not the first %d instances in creation order", tt.want)
			}
			if l.PageInfo.NextMarker != ids[tt.want-1] {
				t.Errorf("next_marker = %q, want the last instance of the page %s", l.PageInfo.NextMarker, ids[tt.want-1])
			}
			if l.PageInfo.PreviousMarker != "" {
				t.Errorf("previous_marker = %q on the first page", l.PageInfo.PreviousMarker)
			}
		})
	}
	for _, bad := range []string{"abc", "1.5", "10x", "0x10", "1e3", "%20"} {
		t.Run("limit="+bad, func(t *testing.T) {
			t.Parallel()
			e := wantError(t, c.with(t).do(http.MethodGet, "/instances?limit="+bad, ""), http.StatusBadRequest, "iMetal.0001")
			if !strings.Contains(e.Msg, "limit") {
				t.Errorf("error_msg %q does not name limit", e.Msg)
			}
		})
	}
}

func TestSimulator_listPagination(t *testing.T) {
	t.Parallel()
	_, c := startSim(t, Options{Servers: 25})
	ids := createN(c, 25)

	for _, limit := range []int{0, 10, 12, 25, 30} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			t.Parallel()
			c := c.with(t)
			var visited []string
			var pages [][]string
			marker := ""
			for page := 0; ; page++ {
				if page > 5 {
					t.Fatalf("more pages than instances: %v", pages)
				}
				q := []string{}
				if limit != 0 {
					q = append(q, fmt.Sprintf("limit=%d", limit))
				}
				if marker != "" {
					q = append(q, "marker="+marker)
				}
				l := c.list(strings.Join(q, "&"))
				if l.Count != 25 {
					t.Errorf("page %d: count = %d, want the total 25", page, l.Count)
				}
				visited = append(visited, l.ids()...)
				pages = append(pages, l.ids())
				if l.PageInfo.NextMarker == "" {
					break
				}
				if l.PageInfo.NextMarker != l.ids()[len(l.ids())-1] {
					t.Errorf("page %d: next_marker %s is not the page's last instance", page, l.PageInfo.NextMarker)
				}
				marker = l.PageInfo.NextMarker
			}
			if !slices.Equal(visited, ids) {
				t.Errorf("pages visited %v,\nwant every instance once in creation order %v", visited, ids)
			}
			size := max(limit, 10)
			wantPages := (25 + size - 1) / size
			if len(pages) != wantPages {
				t.Errorf("%d pages, want %d", len(pages), wantPages)
			}
		})
	}

	t.Run("previous_marker", func(t *testing.T) {
		t.Parallel()
		c := c.with(t)
		l := c.list("marker=" + ids[19])
		if !slices.Equal(l.ids(), ids[20:]) || l.PageInfo.NextMarker != "" {
			t.Fatalf("third page = %v next %q", l.ids(), l.PageInfo.NextMarker)
		}
		if l.PageInfo.PreviousMarker == "" {
			t.Fatalf("the third page has no previous_marker")
		}
		prev := c.list("marker=" + l.PageInfo.PreviousMarker)
		if !slices.Equal(prev.ids(), ids[10:20]) {
			t.Errorf("following previous_marker gave %v, want the second page %v", prev.ids(), ids[10:20])
		}
	})

	t.Run("marker past the end", func(t *testing.T) {
		t.Parallel()
		l := c.with(t).list("marker=" + ids[24])
		if len(l.Instances) != 0 || l.PageInfo.NextMarker != "" || l.Count != 25 {
			t.Errorf("after the last instance: %v next %q count %d", l.ids(), l.PageInfo.NextMarker, l.Count)
		}
	})

	for _, m := range []string{unknownID, "not-a-marker"} {
		t.Run("unknown marker "+m, func(t *testing.T) {
			t.Parallel()
			e := wantError(t, c.with(t).do(http.MethodGet, "/instances?marker="+m, ""), http.StatusBadRequest, "iMetal.0001")
			if !strings.Contains(e.Msg, "marker") {
				t.Errorf("error_msg %q does not name marker", e.Msg)
			}
		})
	}

}

// TestSimulator_listMarkerOfVanishedInstance: a client in the middle of
// paging must not break when the instance its marker names vanishes.
func TestSimulator_listMarkerOfVanishedInstance(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{Servers: 25})
	ids := createN(c, 25)
	first := c.list("")
	if err := sim.RemoveInstance(first.PageInfo.NextMarker); err != nil {
		t.Fatal(err)
	}
	l := c.list("marker=" + first.PageInfo.NextMarker)
	if !slices.Equal(l.ids(), ids[10:20]) || l.Count != 24 {
		t.Errorf("after removing the marker instance: %v count %d, want %v count 24", l.ids(), l.Count, ids[10:20])
	}
}

func TestSimulator_listStateFilter(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	r1, stopped := c.create(bodyWith(nil)), c.create(bodyWith(nil))
	sim.FailNextCreate("iMetal.0099", "boom")
	errored := c.create(bodyWith(nil))
	term, shut := c.create(bodyWith(nil)), c.create(bodyWith(nil))
	clk.Advance(createDur)
	if err := sim.UpdateInstance(stopped, func(in *Instance) { in.State = "stopped" }); err != nil {
		t.Fatal(err)
	}
	c.delete(term)
	clk.Advance(deleteDur)
	c.delete(shut)
	pend := c.create(bodyWith(nil))

	tests := []struct {
		state string
		want  []string
	}{
		{"", []string{r1, stopped, errored, term, shut, pend}},
		{"running", []string{r1}},
		{"stopped", []string{stopped}},
		{"error", []string{errored}},
		{"terminated", []string{term}},
		{"shutting-down", []string{shut}},
		{"pending", []string{pend}},
	}
	for _, tt := range tests {
		t.Run("state "+tt.state, func(t *testing.T) {
			t.Parallel()
			l := c.with(t).list("instance_state=" + tt.state)
			if !slices.Equal(l.ids(), tt.want) || l.Count != len(tt.want) {
				t.Errorf("instance_state=%s gave %v (count %d), want %v", tt.state, l.ids(), l.Count, tt.want)
			}
			for _, in := range l.Instances {
				if tt.state != "" && in.State != tt.state {
					t.Errorf("instance %s in state %s listed for %s", in.ID, in.State, tt.state)
				}
			}
		})
	}
	t.Run("state with instance_id", func(t *testing.T) {
		t.Parallel()
		l := c.with(t).list("instance_state=running&instance_id=" + r1 + "," + stopped)
		if !slices.Equal(l.ids(), []string{r1}) || l.Count != 1 {
			t.Errorf("got %v count %d, want [%s]", l.ids(), l.Count, r1)
		}
	})
	for _, bad := range []string{"Running", "RUNNING", "failed", "teminated", "stopping", "active", "running,pending"} {
		t.Run("invalid state "+bad, func(t *testing.T) {
			t.Parallel()
			e := wantError(t, c.with(t).do(http.MethodGet, "/instances?instance_state="+bad, ""), http.StatusBadRequest, "iMetal.0001")
			if !strings.Contains(e.Msg, "instance_state") {
				t.Errorf("error_msg %q does not name instance_state", e.Msg)
			}
		})
	}
}

func TestSimulator_listIDFilters(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	ids := createN(c, 3)
	a, b, cc := ids[0], ids[1], ids[2]
	srv := func(id string) string { return serverOf(sim, id) }
	unknowns := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("e0000000-0000-4000-8000-%012d", i)
		}
		return out
	}
	join := func(s ...string) string { return strings.Join(s, ",") }

	ok := []struct {
		name, query string
		want        []string
	}{
		{"one ID", "instance_id=" + a, []string{a}},
		{"two IDs", "instance_id=" + join(a, cc), []string{a, cc}},
		{"two IDs in reverse", "instance_id=" + join(cc, a), []string{a, cc}},
		{"a repeated ID", "instance_id=" + join(b, b), []string{b}},
		{"an unknown ID", "instance_id=" + unknownID, nil},
		{"known and unknown", "instance_id=" + join(unknownID, b), []string{b}},
		{"100 IDs", "instance_id=" + join(append(unknowns(99), cc)...), []string{cc}},
		{"empty instance_id", "instance_id=", []string{a, b, cc}},
		{"one server", "server_id=" + srv(b), []string{b}},
		{"two servers", "server_id=" + join(srv(cc), srv(a)), []string{a, cc}},
		{"a ready server", "server_id=a0000000-0000-4000-8000-000000000010", nil},
		{"an unknown server", "server_id=" + unknownID, nil},
		{"100 servers", "server_id=" + join(append(unknowns(99), srv(a))...), []string{a}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := c.with(t).list(tt.query)
			got := sortedCopy(l.ids())
			if !slices.Equal(got, sortedCopy(tt.want)) || l.Count != len(tt.want) {
				t.Errorf("got %v (count %d), want %v", l.ids(), l.Count, tt.want)
			}
		})
	}

	bad := []struct {
		name, query, want string
	}{
		{"101 IDs", "instance_id=" + join(append(unknowns(100), a)...), "instance_id"},
		{"ID not a UUID", "instance_id=abc", "instance_id"},
		{"ID upper case", "instance_id=" + strings.ToUpper(a), "instance_id"},
		{"trailing comma", "instance_id=" + a + ",", "instance_id"},
		{"ID with spaces", "instance_id=" + a + ",%20" + b, "instance_id"},
		{"101 servers", "server_id=" + join(unknowns(101)...), "server_id"},
		{"server not a UUID", "server_id=imetal-server-001", "server_id"},
		{"instance_id and server_id", "instance_id=" + a + "&server_id=" + srv(a), "instance_id and server_id"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := wantError(t, c.with(t).do(http.MethodGet, "/instances?"+tt.query, ""), http.StatusBadRequest, "iMetal.0001")
			if !strings.Contains(e.Msg, tt.want) {
				t.Errorf("error_msg %q does not contain %q", e.Msg, tt.want)
			}
		})
	}
}

// TestSimulator_listFilterPagination pages through a filtered list: count
// and markers refer to the matching instances only.
func TestSimulator_listFilterPagination(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	_, c := startSim(t, Options{Now: clk.Now, CreateDuration: time.Minute, Servers: 30})
	ids := createN(c, 30)
	clk.Advance(time.Minute)
	var running []string
	for i, id := range ids {
		if i%3 == 0 {
			c.delete(id)
		} else {
			running = append(running, id)
		}
	}
	first := c.list("instance_state=running")
	if first.Count != 20 || !slices.Equal(first.ids(), running[:10]) {
		t.Fatalf("first page %v count %d", first.ids(), first.Count)
	}
	second := c.list("instance_state=running&marker=" + first.PageInfo.NextMarker)
	if second.Count != 20 || !slices.Equal(second.ids(), running[10:]) || second.PageInfo.NextMarker != "" {
		t.Errorf("second page %v count %d next %q, want %v", second.ids(), second.Count, second.PageInfo.NextMarker, running[10:])
	}
}
