package clouddc

import (
	"encoding/json"
)

// State is an instance's lifecycle state as the API reports it. The client
// maps the legacy names of older service versions onto the current enum
// when it decodes an answer; a name it does not know is kept as it came, so
// that callers can report it instead of crashing.
type State string

// The current enum of instance states.
const (
	StatePending      State = "pending"
	StateRunning      State = "running"
	StateStopped      State = "stopped"
	StateShuttingDown State = "shutting-down"
	StateTerminated   State = "terminated"
	StateError        State = "error"
)

// Transitional states that only older service versions report. They have no
// current equivalent (the current enum reports these phases through
// operation_state), so they are kept under their own names.
const (
	StateStopping         State = "stopping"
	StateReinstalling     State = "reinstalling"
	StateModifyingIP      State = "modifyIping"
	StateSwitchInstalling State = "switch-installing"
)

// legacyStates maps state names that older service versions report onto the
// current enum.
var legacyStates = map[string]State{
	"failed":    StateError,
	"teminated": StateTerminated, // misspelt in the 2025 enum
}

// knownStates holds every state the client understands.
var knownStates = map[State]bool{
	StatePending: true, StateRunning: true, StateStopped: true, StateShuttingDown: true,
	StateTerminated: true, StateError: true, StateStopping: true, StateReinstalling: true,
	StateModifyingIP: true, StateSwitchInstalling: true,
}

// NormalizeState maps a state name from the API onto the current enum.
func NormalizeState(s string) State {
	if cur, ok := legacyStates[s]; ok {
		return cur
	}
	return State(s)
}

// Known reports whether the client understands the state.
func (s State) Known() bool { return knownStates[s] }

// UnmarshalJSON normalises legacy state names while decoding.
func (s *State) UnmarshalJSON(b []byte) error {
	var raw string
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*s = NormalizeState(raw)
	return nil
}

// Operation states of the long-running operations.
const (
	OpInstallProcessing   = "install-processing"
	OpInstallSucceed      = "install-succeed"
	OpInstallFailed       = "install-failed"
	OpUninstallProcessing = "uninstall-processing"
	OpUninstallSucceed    = "uninstall-succeed"
	OpUninstallFailed     = "uninstall-failed"
)
