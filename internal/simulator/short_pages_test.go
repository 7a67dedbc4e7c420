package simulator

import "testing"

// TestList_cutShort: a page cut short keeps the listing's count and loses
// an instance and its next_marker; the answers after it are whole again.
func TestList_cutShort(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{Servers: 3})
	for range 3 {
		runningInstance(c, clk, nil)
	}
	sim.CutListPagesShort(1)
	l := c.list("")
	if len(l.Instances) != 2 || l.PageInfo.NextMarker != "" || l.Count != 3 || l.PageInfo.CurrentCount != 2 {
		t.Errorf("cut page: %d instances, next_marker %q, count %d, current_count %d; want 2, none, 3, 2",
			len(l.Instances), l.PageInfo.NextMarker, l.Count, l.PageInfo.CurrentCount)
	}
	if l = c.list(""); len(l.Instances) != 3 || l.Count != 3 {
		t.Errorf("next answer: %d instances, count %d; want all 3", len(l.Instances), l.Count)
	}
	sim.CutListPagesShort(5)
	sim.ClearFaults()
	if l = c.list("limit=1000"); len(l.Instances) != 3 {
		t.Errorf("after ClearFaults: %d instances, want 3", len(l.Instances))
	}
}
