package simulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// This file is the simulator's Go API for tests: looking at instances out of
// band, changing them behind the client's back, and making operations fail.

// Instance returns a copy of an instance, as the API would list it.
func (s *Simulator) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	r := s.instances[id]
	if r == nil {
		return Instance{}, false
	}
	return r.snapshot(), true
}

// Instances returns a copy of every instance the API still knows, in
// creation order.
func (s *Simulator) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	out := make([]Instance, len(s.order))
	for i, r := range s.order {
		out[i] = r.snapshot()
	}
	return out
}

// History returns the state changes of an instance, oldest first.
func (s *Simulator) History(id string) []StateChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	if r := s.instances[id]; r != nil {
		return slices.Clone(r.History)
	}
	return nil
}

// Password returns the password an instance was given (at creation, by the
// last successful reinstall, or by ChangeInstancePassword), so that tests
// can check what reached the API.
func (s *Simulator) Password(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	r := s.instances[id]
	if r == nil {
		return "", false
	}
	return r.Password, true
}

// UpdateInstance changes an instance out of band, as a change made in the
// console would (drift). The ID cannot be changed.
func (s *Simulator) UpdateInstance(id string, change func(*Instance)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	r := s.instances[id]
	if r == nil {
		return fmt.Errorf("simulator: instance %s not found", id)
	}
	in := r.snapshot()
	change(&in)
	in.ID = id
	state, opState := in.State, in.OperationState
	in.State, in.OperationState = r.Instance.State, r.Instance.OperationState
	// Copy again, so that change cannot keep a reference into the record,
	// and change the state after the copy, so that updated_at and the
	// history record it.
	r.Instance = (&record{Instance: in}).snapshot()
	if state != r.Instance.State || opState != r.Instance.OperationState {
		s.setStateLocked(r, s.now(), state, opState)
	}
	s.dirtyLocked()
	return nil
}

// RemoveInstance makes an instance vanish at once, as if it had been
// deleted out of band and its retention had passed: it answers 404 from now
// on, and its server is ready again.
func (s *Simulator) RemoveInstance(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.instances[id]
	if r == nil {
		return fmt.Errorf("simulator: instance %s not found", id)
	}
	s.removeLocked(r, s.now())
	return nil
}

// DeleteInstance starts the deletion of an instance out of band, as a
// DeleteInstance call from another client would.
func (s *Simulator) DeleteInstance(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	r := s.instances[id]
	if r == nil {
		return fmt.Errorf("simulator: instance %s not found", id)
	}
	if e := s.startDeleteLocked(r); e != nil {
		return fmt.Errorf("simulator: %s", e.msg)
	}
	s.dirtyLocked()
	return nil
}

// Servers returns the physical servers of the pool.
func (s *Simulator) Servers() []Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	out := make([]Server, len(s.servers))
	for i, srv := range s.servers {
		out[i] = srv.Server
	}
	return out
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestServer is a simulator served on a loopback httptest server.
type TestServer struct {
	*Simulator
	// URL is the endpoint to give the client or the provider.
	URL string
}

// StartTest starts a simulator for one test and stops it when the test ends.
func StartTest(t testing.TB, opts Options) *TestServer {
	t.Helper()
	sim, err := New(opts)
	if err != nil {
		t.Fatalf("starting the simulator: %v", err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		srv.Close()
		if err := sim.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	})
	return &TestServer{Simulator: sim, URL: srv.URL}
}

var _ http.Handler = (*Simulator)(nil)
