package simulator

import (
	"slices"
	"time"
)

// Observability for tests and benchmarks: what the simulator was asked,
// what it refused, and when each instance changed state, even after the
// instance itself is gone.

// Stats is a summary of what the simulator saw since it started or since
// ResetStats.
type Stats struct {
	// Requests counts the requests of each operation, including those
	// refused, rate limited or failed by a fault.
	Requests map[string]int `json:"requests"`
	// RateLimited counts the 429s sent by the rate limit.
	RateLimited int `json:"rate_limited"`
	// FaultsInjected counts the requests answered by a queued Fault or a
	// failure rate.
	FaultsInjected int `json:"faults_injected"`
	// Instances counts the instances the API still knows, per state
	// (current names).
	Instances map[string]int `json:"instances"`
}

// Stats returns the counters and the instances per state.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	st := Stats{Requests: make(map[string]int, len(s.counts)), RateLimited: s.rateLimited,
		FaultsInjected: s.faultsInjected, Instances: map[string]int{}}
	for k, v := range s.counts {
		st.Requests[k] = v
	}
	for _, r := range s.order {
		st.Instances[r.Instance.State]++
	}
	return st
}

// ResetStats sets the request counts, RateLimited and FaultsInjected back
// to zero. Instances and their timelines are not touched.
func (s *Simulator) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.rateLimited = 0
	s.faultsInjected = 0
}

// Timeline is the life of one instance: every state change with its time,
// kept after the instance is purged, so that a benchmark can compute how
// long after an instance became terminated a client noticed it.
type Timeline struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	ProjectID      string `json:"project_id"`
	State          string `json:"state"`
	OperationState string `json:"operation_state"`
	// Purged is set once the instance answers 404; PurgedAt is when.
	Purged   bool          `json:"purged"`
	PurgedAt time.Time     `json:"purged_at,omitzero"`
	History  []StateChange `json:"history"`
}

// EnteredAt returns when the instance first entered state (a current
// name, such as "terminated").
func (t Timeline) EnteredAt(state string) (time.Time, bool) {
	for _, c := range t.History {
		if c.State == state {
			return c.At, true
		}
	}
	return time.Time{}, false
}

// maxPurged bounds the timelines kept for purged instances, so that a
// simulator left running for weeks does not grow without end.
const maxPurged = 100_000

type purgedRecord struct {
	Seq      uint64   `json:"seq"`
	Timeline Timeline `json:"timeline"`
}

func (r *record) timeline() Timeline {
	return Timeline{ID: r.Instance.ID, Name: r.Instance.Name, ProjectID: r.Project, State: r.Instance.State,
		OperationState: r.Instance.OperationState, History: slices.Clone(r.History)}
}

func (s *Simulator) archiveLocked(r *record, at time.Time) {
	tl := r.timeline()
	tl.Purged, tl.PurgedAt = true, at
	if _, ok := s.purged[tl.ID]; !ok {
		s.purgedOrder = append(s.purgedOrder, tl.ID)
	}
	s.purged[tl.ID] = &purgedRecord{Seq: r.Seq, Timeline: tl}
	for len(s.purgedOrder) > maxPurged {
		delete(s.purged, s.purgedOrder[0])
		s.purgedOrder = s.purgedOrder[1:]
	}
}

// Timeline returns the timeline of an instance, purged or not.
func (s *Simulator) Timeline(id string) (Timeline, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	if r := s.instances[id]; r != nil {
		return r.timeline(), true
	}
	if p := s.purged[id]; p != nil {
		tl := p.Timeline
		tl.History = slices.Clone(tl.History)
		return tl, true
	}
	return Timeline{}, false
}

// Timelines returns the timeline of every instance, purged or not, in
// creation order.
func (s *Simulator) Timelines() []Timeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	type item struct {
		seq uint64
		tl  Timeline
	}
	items := make([]item, 0, len(s.order)+len(s.purged))
	for _, r := range s.order {
		items = append(items, item{r.Seq, r.timeline()})
	}
	for _, p := range s.purged {
		tl := p.Timeline
		tl.History = slices.Clone(tl.History)
		items = append(items, item{p.Seq, tl})
	}
	slices.SortFunc(items, func(a, b item) int { return cmpSeq(a.seq, b.seq) })
	out := make([]Timeline, len(items))
	for i, it := range items {
		out[i] = it.tl
	}
	return out
}
