package simulator

import (
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
