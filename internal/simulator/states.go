package simulator

import (
	"slices"
)

// The state enum changed three times in 2025–2026. In Legacy mode the
// simulator answers as the 2025 service did, so that clients prove they
// survive the change. The mapping, applied to answers only:
//
//	current state                              2025 name
//	terminated                                 teminated (sic)
//	error                                      failed
//	running/stopped, reinstall in progress     reinstalling
//	running/stopped, IP change in progress     modifyIping
//	running, its server powering off           stopping
//	switch-installing                          switch-installing
//
// No operation produces switch-installing (the API has no switch-install
// operation); UpdateInstance can set it, as drift.

// currentFilterStates are the states the instance_state filter accepts.
var currentFilterStates = []string{"pending", "running", "stopped", "shutting-down", "terminated", "error"}

// legacyFilterStates are those it accepts in Legacy mode.
var legacyFilterStates = []string{"pending", "running", "stopped", "shutting-down", "teminated", "failed",
	"stopping", "reinstalling", "modifyIping", "switch-installing", "terminated", "error"}

// phaseStateLocked is the state of an instance with the phase of the
// operation in progress folded in, in the 2025 names. The operation rules
// use it too: an instance that is reinstalling is not "running" for the
// purpose of another reinstall, whatever the current enum calls it.
func (s *Simulator) phaseStateLocked(r *record) string {
	switch r.busyKind() {
	case kindReinstall:
		return "reinstalling"
	case kindModifyIP:
		return "modifyIping"
	}
	if r.Instance.State == "running" && s.poweringOffLocked(r) {
		return "stopping"
	}
	return legacyName(r.Instance.State)
}

// legacyName is a state's 2025 name, without the phase of an operation.
func legacyName(state string) string {
	switch state {
	case "terminated":
		return "teminated"
	case "error":
		return "failed"
	}
	return state
}

func (s *Simulator) poweringOffLocked(r *record) bool {
	srv := s.serverIdx[r.Instance.ServerID]
	return srv != nil && srv.InstanceID == r.Instance.ID && srv.Next != nil && srv.Next.Action == ActionPowerOff
}

// shownStateLocked is the state the API answers for an instance: the state
// from before an operation that has not shown yet (operation_lag.go), in
// the 2025 names in Legacy mode.
func (s *Simulator) shownStateLocked(r *record) string {
	if l := s.lagLocked(r); l != nil {
		if s.legacy {
			return legacyName(l.state)
		}
		return l.state
	}
	if s.legacy {
		return s.phaseStateLocked(r)
	}
	return r.Instance.State
}

// filterStateLocked checks an instance_state filter value and returns the
// value to compare with shownStateLocked.
func (s *Simulator) filterStateLocked(v string) (string, bool) {
	if !s.legacy {
		return v, slices.Contains(currentFilterStates, v)
	}
	switch v {
	case "terminated":
		return "teminated", true
	case "error":
		return "failed", true
	}
	return v, slices.Contains(legacyFilterStates, v)
}

// filterStatesLocked lists the accepted filter values, for error messages.
func (s *Simulator) filterStatesLocked() []string {
	if s.legacy {
		return legacyFilterStates
	}
	return currentFilterStates
}

// describeLocked names an instance's state for an iMetal.0201 message,
// with the operation in progress when there is one.
func (s *Simulator) describeLocked(r *record) string {
	switch ph := s.phaseStateLocked(r); ph {
	case "reinstalling", "modifyIping":
		return r.Instance.State + " (" + r.Instance.OperationState + ")"
	case "stopping":
		return "running (its server is powering off)"
	default:
		return r.Instance.State
	}
}

// idleIn reports whether an instance is in one of states and has no
// operation in progress (no reinstall, IP change or power-off).
func (s *Simulator) idleIn(r *record, states ...string) bool {
	return slices.Contains(states, s.phaseStateLocked(r))
}
