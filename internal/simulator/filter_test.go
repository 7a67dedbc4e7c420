package simulator

import (
	"net/http"
	"slices"
	"testing"
)

// TestList_ignoreIDFilter: while the setting is on, ListInstances lists the
// whole project whatever instance_id asks, paged honestly with the whole
// project's count; the other filters still apply.
func TestList_ignoreIDFilter(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{Servers: 4, AdminToken: testAdminToken})
	var ids []string
	for range 4 {
		ids = append(ids, runningInstance(c, clk, nil))
	}
	c.delete(ids[3])
	sim.SetIgnoreIDFilter(true)
	l := c.list("instance_id=" + ids[0])
	if !slices.Equal(l.ids(), ids) || l.Count != 4 {
		t.Fatalf("an ignored filter listed %v (count %d), want the whole project %v", l.ids(), l.Count, ids)
	}
	if l := c.list("instance_id=" + ids[0] + "&instance_state=running"); !slices.Equal(l.ids(), ids[:3]) || l.Count != 3 {
		t.Errorf("instance_state still filters: got %v (count %d), want %v", l.ids(), l.Count, ids[:3])
	}
	sim.SetPageSizeCap(3)
	first := c.list("instance_id=" + ids[0])
	if len(first.Instances) != 3 || first.Count != 4 || first.PageInfo.NextMarker == "" {
		t.Fatalf("capped: %d instances, count %d, next_marker %q; want 3 of 4 and a marker", len(first.Instances), first.Count, first.PageInfo.NextMarker)
	}
	second := c.list("instance_id=" + ids[0] + "&marker=" + first.PageInfo.NextMarker)
	if !slices.Equal(append(first.ids(), second.ids()...), ids) {
		t.Errorf("the pages of an ignored filter gave %v and %v, want %v", first.ids(), second.ids(), ids)
	}
	sim.SetPageSizeCap(0)
	c.adminOK(http.MethodPut, "/_simulator/settings", `{"ignore_id_filter": false}`, http.StatusOK)
	if l := c.list("instance_id=" + ids[0]); !slices.Equal(l.ids(), ids[:1]) || l.Count != 1 {
		t.Errorf("setting off: %v (count %d), want only %s", l.ids(), l.Count, ids[0])
	}
	c.adminOK(http.MethodPut, "/_simulator/settings", `{"ignore_id_filter": true}`, http.StatusOK)
	if l := c.list("instance_id=" + ids[0]); l.Count != 4 {
		t.Errorf("setting on from the admin API: count %d, want 4", l.Count)
	}
}

// TestFault_ignoreFilter: the fault makes one ListInstances ignore its ID
// filter; no other operation uses it up, and the next listing is filtered
// again.
func TestFault_ignoreFilter(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{Servers: 3, AdminToken: testAdminToken})
	a := runningInstance(c, clk, nil)
	b := runningInstance(c, clk, nil)
	sim.InjectFault(Fault{IgnoreFilter: true})
	c.wantState(a, "running", "install-succeed") // not a listing: does not use the fault up
	if l := c.list("instance_id=" + a); !slices.Equal(l.ids(), []string{a, b}) || l.Count != 2 {
		t.Fatalf("the fault's listing gave %v (count %d), want the whole project", l.ids(), l.Count)
	}
	if l := c.list("instance_id=" + a); !slices.Equal(l.ids(), []string{a}) || l.Count != 1 {
		t.Errorf("after the fault: %v (count %d), want only %s", l.ids(), l.Count, a)
	}
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op": "ListInstances", "ignore_filter": true}`, http.StatusNoContent)
	if l := c.list("instance_id=" + b); l.Count != 2 {
		t.Errorf("the admin API's fault: count %d, want the whole project's 2", l.Count)
	}
}

// TestFault_hideItems: a listing that omits instances and is consistent
// all the same: count and current_count drop with the hidden items, and
// the pages after it still add up to count.
func TestFault_hideItems(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{Servers: 5, AdminToken: testAdminToken})
	var ids []string
	for range 5 {
		ids = append(ids, runningInstance(c, clk, nil))
	}
	sim.InjectFault(Fault{Op: OpListInstances, HideItems: 2})
	l := c.list("")
	if !slices.Equal(l.ids(), ids[:3]) || l.Count != 3 || l.PageInfo.CurrentCount != 3 || l.PageInfo.NextMarker != "" {
		t.Fatalf("hidden items: %v, count %d, current_count %d, next_marker %q; want the first 3, count 3, no marker",
			l.ids(), l.Count, l.PageInfo.CurrentCount, l.PageInfo.NextMarker)
	}
	// One filtered by ID: a complete-looking answer that says it is gone.
	sim.InjectFault(Fault{Op: OpListInstances, HideItems: 1})
	if l := c.list("instance_id=" + ids[4]); len(l.Instances) != 0 || l.Count != 0 {
		t.Errorf("hidden by ID: %v, count %d; want an empty listing", l.ids(), l.Count)
	}
	// Over pages: the first page hides one, and the pages still add up.
	sim.SetPageSizeCap(2)
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op": "ListInstances", "hide_items": 1}`, http.StatusNoContent)
	var got []string
	count, marker := -1, ""
	for {
		q := "limit=1000"
		if marker != "" {
			q += "&marker=" + marker
		}
		p := c.list(q)
		if count < 0 {
			count = p.Count
		}
		got = append(got, p.ids()...)
		if marker = p.PageInfo.NextMarker; marker == "" {
			break
		}
	}
	want := []string{ids[0], ids[2], ids[3], ids[4]}
	if !slices.Equal(got, want) || count != len(got) {
		t.Errorf("paged with a hidden item: %v, first count %d; want %v and a count that matches", got, count, want)
	}
	// Hidden together with an ignored filter.
	sim.SetPageSizeCap(0)
	sim.InjectFault(Fault{IgnoreFilter: true, HideItems: 4})
	if l := c.list("instance_id=" + ids[0]); !slices.Equal(l.ids(), ids[:1]) || l.Count != 1 {
		t.Errorf("ignored filter and 4 hidden: %v (count %d), want just %s", l.ids(), l.Count, ids[0])
	}
}
