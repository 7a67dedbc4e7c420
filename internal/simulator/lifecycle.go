package simulator

import (
	"container/heap"
	"net/netip"
	"time"
)

// Long-running operations end at a due time. Each pending end is an entry in
// a min-heap; every request, and a timer for each entry, applies the entries
// that are due. Changes therefore happen at their exact due time whether or
// not anybody is polling, and the simulator never scans all instances.

type dueEntry struct {
	at  time.Time
	id  string
	gen uint64
}

type dueHeap []dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueEntry)) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// scheduleLocked makes kind the pending end of r's current operation, due
// after d. A later schedule replaces an earlier one.
func (s *Simulator) scheduleLocked(r *record, kind string, d time.Duration, fail *ErrorInfo) {
	at := s.now().Add(d)
	r.Gen++
	r.Next = &transition{At: at, Kind: kind, Fail: fail}
	heap.Push(&s.due, dueEntry{at: at, id: r.Instance.ID, gen: r.Gen})
	time.AfterFunc(d, s.tick)
}

// tick applies whatever is due; timers call it.
func (s *Simulator) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
}

// advanceLocked applies, in order, every transition due by now.
func (s *Simulator) advanceLocked() {
	now := s.now()
	for s.due.Len() > 0 && !s.due[0].at.After(now) {
		e := heap.Pop(&s.due).(dueEntry)
		r := s.instances[e.id]
		if r == nil || r.Gen != e.gen || r.Next == nil {
			continue // superseded or gone
		}
		t := r.Next
		r.Next = nil
		s.applyLocked(r, t)
	}
}

func (s *Simulator) applyLocked(r *record, t *transition) {
	switch t.Kind {
	case kindCreate:
		if t.Fail != nil {
			r.Instance.Error = t.Fail
			s.setStateLocked(r, t.At, "error", "install-failed")
			return
		}
		r.Instance.LaunchedAt = formatTime(t.At)
		s.setStateLocked(r, t.At, "running", "install-succeed")
	case kindDelete:
		if t.Fail != nil {
			r.Instance.Error = t.Fail
			s.setStateLocked(r, t.At, "error", "uninstall-failed")
			return
		}
		s.setStateLocked(r, t.At, "terminated", "uninstall-succeed")
		s.releaseLocked(r)
		s.scheduleLocked(r, kindPurge, max(0, t.At.Add(s.opts.Retention).Sub(s.now())), nil)
	case kindPurge:
		s.removeLocked(r)
	}
}

func (s *Simulator) setStateLocked(r *record, at time.Time, state, opState string) {
	from := r.Instance.State
	r.Instance.State = state
	r.Instance.OperationState = opState
	r.Instance.UpdatedAt = formatTime(at)
	r.History = append(r.History, StateChange{At: at, State: state, OperationState: opState})
	s.logger.Info("instance state changed", "instance_id", r.Instance.ID, "name", r.Instance.Name,
		"from", from, "to", state, "operation_state", opState)
}

// releaseLocked frees the server and the addresses an instance held.
func (s *Simulator) releaseLocked(r *record) {
	if srv := s.serverIdx[r.Instance.ServerID]; srv != nil && srv.InstanceID == r.Instance.ID {
		srv.InstanceID = ""
	}
	for _, nic := range r.Instance.NetworkInterfaces {
		if a, err := netip.ParseAddr(nic.IPv4Address); err == nil && s.usedIPs[a] == r.Instance.ID {
			delete(s.usedIPs, a)
		}
	}
}

// removeLocked forgets an instance: from now on it answers 404.
func (s *Simulator) removeLocked(r *record) {
	s.releaseLocked(r)
	delete(s.instances, r.Instance.ID)
	s.logger.Info("instance purged", "instance_id", r.Instance.ID, "name", r.Instance.Name)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
