package simulator

import (
	"time"
)

// Operations that show late. A real service may accept a ReinstallOs or a
// ModifyInstanceIp and go on showing the instance as it was (its state,
// operation_state and error) for a while, before the operation appears as
// processing. A client that waits for "…-succeed" may then end its wait on
// the previous operation's "…-succeed" (DESIGN.md, 8.8): the wait must end
// on its own operation.

// SetOperationLag makes every ReinstallOs and ModifyInstanceIp accepted
// from now on leave the instance showing its previous state,
// operation_state and error, in listings and in ShowInstanceStatus, for d;
// then the operation shows as usual and takes its normal duration. The
// instance counts as busy from the start: other operations are refused as
// they would be during the operation. 0 turns the lag off. The history
// (Timeline) records the change when it was accepted. A lag in progress is
// not kept in the state file.
func (s *Simulator) SetOperationLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.operationLag = max(d, 0)
}

// lagged is what an instance shows while an operation has not shown yet.
type lagged struct {
	until          time.Time
	state, opState string
	err            *ErrorInfo
}

// showingLocked is what an instance shows now, to be shown on while an
// operation accepted next has not shown yet.
func (s *Simulator) showingLocked(r *record) lagged {
	l := lagged{state: r.Instance.State, opState: r.Instance.OperationState}
	if r.Instance.Error != nil {
		e := *r.Instance.Error
		l.err = &e
	}
	return l
}

// startLaggedLocked is called when an operation has been accepted and its
// state change made: the instance goes on showing before (what
// showingLocked gave before the change) for the operation lag. It returns
// how much later the operation therefore ends.
func (s *Simulator) startLaggedLocked(r *record, now time.Time, before lagged) time.Duration {
	if s.operationLag <= 0 {
		return 0
	}
	before.until = now.Add(s.operationLag)
	r.lag = &before
	return s.operationLag
}

// lagLocked returns what an instance shows instead of an operation that
// has not shown yet, or nil.
func (s *Simulator) lagLocked(r *record) *lagged {
	if r.lag != nil && s.now().Before(r.lag.until) {
		return r.lag
	}
	return nil
}

// shownLocked is an instance as the API shows it: with its shown state
// (legacy names included) and, while an operation has not shown yet, the
// operation_state and error from before it.
func (s *Simulator) shownLocked(r *record) Instance {
	in := r.snapshot()
	in.State = s.shownStateLocked(r)
	if l := s.lagLocked(r); l != nil {
		in.OperationState = l.opState
		in.Error = nil
		if l.err != nil {
			e := *l.err
			in.Error = &e
		}
	}
	return in
}
