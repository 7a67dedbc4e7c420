package simulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestList_pageSizeCap: with PageSizeCap, a page holds at most that many
// items whatever limit asks for, and next_marker leads through them all.
func TestList_pageSizeCap(t *testing.T) {
	t.Parallel()
	_, c, clk := opsSim(t, Options{Servers: 5, PageSizeCap: 2})
	want := map[string]bool{}
	for range 5 {
		want[runningInstance(c, clk, nil)] = true
	}
	got := map[string]bool{}
	marker, pages := "", 0
	for {
		q := "limit=1000"
		if marker != "" {
			q += "&marker=" + marker
		}
		l := c.list(q)
		pages++
		if len(l.Instances) > 2 {
			t.Fatalf("page %d holds %d instances, more than the cap of 2", pages, len(l.Instances))
		}
		for _, id := range l.ids() {
			got[id] = true
		}
		if marker = l.PageInfo.NextMarker; marker == "" {
			break
		}
	}
	if pages != 3 || len(got) != len(want) {
		t.Errorf("read %d instances in %d pages; want %d in 3", len(got), pages, len(want))
	}
	if s := c.servers("limit=1000"); len(s.Servers) != 2 || s.PageInfo.NextMarker == "" {
		t.Errorf("servers page: %d servers, next_marker %q; want 2 and a marker", len(s.Servers), s.PageInfo.NextMarker)
	}
}

// TestList_setPageSizeCap: the cap changes at run time, from Go and from
// the admin API, also for a listing filtered by IDs, and the pages stay
// honest: next_marker leads through them all and count is the whole
// listing's.
func TestList_setPageSizeCap(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{Servers: 5, AdminToken: testAdminToken})
	var ids []string
	for range 5 {
		ids = append(ids, runningInstance(c, clk, nil))
	}
	filter := "instance_id=" + strings.Join(ids[:4], ",")
	if l := c.list("limit=1000&" + filter); len(l.Instances) != 4 || l.PageInfo.NextMarker != "" {
		t.Fatalf("without a cap: %d instances, next_marker %q; want 4 on one page", len(l.Instances), l.PageInfo.NextMarker)
	}
	sim.SetPageSizeCap(3)
	first := c.list("limit=1000&" + filter)
	if len(first.Instances) != 3 || first.Count != 4 || first.PageInfo.CurrentCount != 3 || first.PageInfo.NextMarker == "" {
		t.Fatalf("first capped page: %d instances, count %d, current_count %d, next_marker %q; want 3 of 4 and a marker",
			len(first.Instances), first.Count, first.PageInfo.CurrentCount, first.PageInfo.NextMarker)
	}
	second := c.list("limit=1000&" + filter + "&marker=" + first.PageInfo.NextMarker)
	if got := append(first.ids(), second.ids()...); !slices.Equal(got, ids[:4]) || second.PageInfo.NextMarker != "" || second.Count != 4 {
		t.Fatalf("the pages gave %v (last next_marker %q, count %d), want %v", got, second.PageInfo.NextMarker, second.Count, ids[:4])
	}
	c.adminOK(http.MethodPut, "/_simulator/settings", `{"page_size_cap": 2}`, http.StatusOK)
	if l := c.list("limit=1000"); len(l.Instances) != 2 || l.Count != 5 {
		t.Errorf("cap 2 from the admin API: %d instances, count %d", len(l.Instances), l.Count)
	}
	wantError(t, c.admin(http.MethodPut, "/_simulator/settings", `{"page_size_cap": -1}`), http.StatusBadRequest, "SIM.0400")
	sim.SetPageSizeCap(0)
	if l := c.list("limit=1000"); len(l.Instances) != 5 || l.PageInfo.NextMarker != "" {
		t.Errorf("cap off: %d instances, next_marker %q; want all 5 on one page", len(l.Instances), l.PageInfo.NextMarker)
	}
}
