package simulator

import (
	"container/heap"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Long-running operations end at a due time. Each pending end is an entry in
// a min-heap; every request, and a timer for each entry, applies the entries
// that are due. Changes therefore happen at their exact due time whether or
// not anybody is polling, and the simulator never scans all instances. Due
// changes are stamped with their due time, not with the time somebody
// looked, so a benchmark can tell how late a client noticed them.

type dueEntry struct {
	at     time.Time
	id     string
	gen    uint64
	server bool // id is a physical server, the entry a power transition
}

type dueHeap []dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push is for container/heap only, which passes back what heap.Push got.
func (h *dueHeap) Push(x any) {
	e, ok := x.(dueEntry)
	if !ok {
		panic(fmt.Sprintf("simulator: a %T pushed onto the due heap", x))
	}
	*h = append(*h, e)
}

func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// scheduleLocked makes t the pending end of r's current operation. A later
// schedule replaces an earlier one. A held transition has no due time and
// waits for ReleaseDeletes.
func (s *Simulator) scheduleLocked(r *record, t *transition) {
	r.Gen++
	r.Next = t
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if t == nil || t.Held {
		return
	}
	t.At = s.spreadLocked(r, t) // Options.Spread: servers differ (spread.go)
	heap.Push(&s.due, dueEntry{at: t.At, id: r.Instance.ID, gen: r.Gen})
	r.timer = s.timerLocked(t.At)
}

// scheduleServerLocked makes p the pending end of a server's power action.
func (s *Simulator) scheduleServerLocked(srv *serverRec, p *powerTransition) {
	srv.Gen++
	srv.Next = p
	if srv.timer != nil {
		srv.timer.Stop()
		srv.timer = nil
	}
	if p == nil {
		return
	}
	heap.Push(&s.due, dueEntry{at: p.At, id: srv.ID, gen: srv.Gen, server: true})
	srv.timer = s.timerLocked(p.At)
}

// timerLocked arms a timer that applies what is due at at. With a fake
// clock the wait is computed on that clock; the request path applies due
// changes anyway, so a timer that fires early or late changes nothing.
func (s *Simulator) timerLocked(at time.Time) *time.Timer {
	if s.closed {
		return nil
	}
	return time.AfterFunc(max(0, at.Sub(s.now())), s.tick)
}

// tick applies whatever is due; timers call it.
func (s *Simulator) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.advanceLocked()
}

// advanceLocked applies, in order, every transition due by now.
func (s *Simulator) advanceLocked() {
	now := s.now()
	applied := false
	for s.due.Len() > 0 && !s.due[0].at.After(now) {
		e := s.due[0] // the earliest, which heap.Pop removes
		heap.Pop(&s.due)
		if e.server {
			srv := s.serverIdx[e.id]
			if srv == nil || srv.Gen != e.gen || srv.Next == nil {
				continue
			}
			p := srv.Next
			srv.Next, srv.timer = nil, nil
			s.applyPowerLocked(srv, p)
			applied = true
			continue
		}
		r := s.instances[e.id]
		if r == nil || r.Gen != e.gen || r.Next == nil {
			continue // superseded or gone
		}
		t := r.Next
		r.Next, r.timer = nil, nil
		s.applyLocked(r, t)
		applied = true
	}
	if applied {
		s.dirtyLocked()
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
		s.serverOnLocked(r)
		s.setStateLocked(r, t.At, "running", "install-succeed")
	case kindDelete:
		if t.Fail != nil {
			r.Instance.Error = t.Fail
			s.setStateLocked(r, t.At, "error", "uninstall-failed")
			return
		}
		s.setStateLocked(r, t.At, "terminated", "uninstall-succeed")
		s.releaseLocked(r)
		if s.vanish {
			s.removeLocked(r, t.At)
			return
		}
		s.scheduleLocked(r, &transition{At: t.At.Add(s.opts.Retention), Kind: kindPurge})
	case kindPurge:
		s.removeLocked(r, t.At)
	case kindReinstall:
		if t.Fail != nil {
			r.Instance.Error = t.Fail
			s.setStateLocked(r, t.At, "error", "reinstall-failed")
			return
		}
		if im, ok := s.images[t.ImageID]; ok {
			r.Instance.Image = Image(im)
		}
		r.Password = t.Password
		r.Instance.Error = nil
		r.Instance.LaunchedAt = formatTime(t.At)
		s.serverOnLocked(r)
		s.setStateLocked(r, t.At, "running", "reinstall-succeed")
	case kindModifyIP:
		if t.Fail != nil {
			s.releaseAddrsLocked(r.Instance.ID, t.NICs, r.Instance.NetworkInterfaces)
			r.Instance.Error = t.Fail
			s.setStateLocked(r, t.At, "error", "modify-ip-failed")
			return
		}
		s.releaseAddrsLocked(r.Instance.ID, r.Instance.NetworkInterfaces, t.NICs)
		r.Instance.NetworkInterfaces = slices.Clone(t.NICs)
		r.Instance.VPCID = t.VPCID
		r.Instance.Error = nil
		s.serverOnLocked(r)
		s.setStateLocked(r, t.At, "running", "modify-ip-succeed")
	}
}

// serverOnLocked records that an operation that ends in running left the
// instance's server powered on.
func (s *Simulator) serverOnLocked(r *record) {
	if srv := s.serverIdx[r.Instance.ServerID]; srv != nil && srv.InstanceID == r.Instance.ID && srv.Next == nil {
		srv.PowerState = PowerOn
	}
}

// applyPowerLocked ends a power action: the server reaches its new power
// state and its instance follows (off stops it, on runs it).
func (s *Simulator) applyPowerLocked(srv *serverRec, p *powerTransition) {
	switch p.Action {
	case ActionPowerOff:
		srv.PowerState = PowerOff
	default: // power on and rebooting both end powered on
		srv.PowerState = PowerOn
	}
	r := s.instances[srv.InstanceID]
	if r == nil || r.busyKind() != "" {
		return
	}
	switch {
	case p.Action == ActionPowerOff && r.Instance.State == "running":
		s.setStateLocked(r, p.At, "stopped", r.Instance.OperationState)
	case p.Action == ActionPowerOn && r.Instance.State == "stopped":
		s.setStateLocked(r, p.At, "running", r.Instance.OperationState)
	}
	s.logger.Info("server power changed", "server_id", srv.ID, "power_state", srv.PowerState)
}

func (s *Simulator) setStateLocked(r *record, at time.Time, state, opState string) {
	from := r.Instance.State
	r.lag = nil
	r.Instance.State = state
	r.Instance.OperationState = opState
	r.Instance.UpdatedAt = formatTime(at)
	r.History = append(r.History, StateChange{At: at, State: state, OperationState: opState})
	s.logger.Info("instance state changed", "instance_id", r.Instance.ID, "name", r.Instance.Name,
		"from", from, "to", state, "operation_state", opState)
}

// releaseLocked frees the server and the addresses an instance held,
// including those reserved for an IP change in progress.
func (s *Simulator) releaseLocked(r *record) {
	if srv := s.serverIdx[r.Instance.ServerID]; srv != nil && srv.InstanceID == r.Instance.ID {
		srv.InstanceID = ""
	}
	s.releaseAddrsLocked(r.Instance.ID, r.Instance.NetworkInterfaces, nil)
	if r.Next != nil && r.Next.Kind == kindModifyIP {
		s.releaseAddrsLocked(r.Instance.ID, r.Next.NICs, nil)
	}
}

// releaseAddrsLocked frees the addresses of nics that id holds, except
// those that keep lists (the addresses it goes on using).
func (s *Simulator) releaseAddrsLocked(id string, nics, keep []NIC) {
	for _, nic := range nics {
		if slices.ContainsFunc(keep, func(k NIC) bool { return k.IPv4Address == nic.IPv4Address }) {
			continue
		}
		if a, err := netip.ParseAddr(nic.IPv4Address); err == nil && s.usedIPs[a] == id {
			delete(s.usedIPs, a)
			if h, ok := s.freeHint[nic.SubnetID]; ok && a.Less(h) && s.subnets[nic.SubnetID].CIDR.Contains(a) {
				s.freeHint[nic.SubnetID] = a
			}
		}
	}
}

// removeLocked forgets an instance: from now on it answers 404. Its history
// is archived, so that benchmarks can still read when it was terminated.
func (s *Simulator) removeLocked(r *record, at time.Time) {
	s.releaseLocked(r)
	if r.timer != nil {
		r.timer.Stop()
	}
	delete(s.instances, r.Instance.ID)
	if i, ok := slices.BinarySearchFunc(s.order, r.Seq, func(x *record, seq uint64) int { return cmpSeq(x.Seq, seq) }); ok {
		s.order = slices.Delete(s.order, i, i+1)
	}
	s.archiveLocked(r, at)
	s.dirtyLocked()
	s.logger.Info("instance purged", "instance_id", r.Instance.ID, "name", r.Instance.Name)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
