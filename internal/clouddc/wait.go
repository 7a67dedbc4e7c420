package clouddc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PollSchedule says when waits poll. All waits of one client share one
// status sweep per tick (see watcher), so these are the times at which a
// wait wants a fresh status, not a count of calls per instance.
//
// A wait first polls after Delay, then every Interval, which bounds how late
// a change is noticed. Waits that go on for long poll less often: after a
// minute the interval grows with the time already waited (a sixtieth of
// it), up to MaxInterval. Once the client has seen waits of the same kind
// finish, the next ones look only now and then (every MaxInterval) until
// three quarters of the quickest of those durations, then every Interval
// until twice the longest. While many waits share the sweeps, they look
// more often than every Interval, down to MinInterval, as long as the
// sweeps cost no more calls than one per instance per MaxInterval.
type PollSchedule struct {
	Delay       time.Duration
	Interval    time.Duration
	MinInterval time.Duration
	MaxInterval time.Duration
}

// DefaultPollSchedule is the schedule used when none is configured: first
// poll after a second, then every second for the first minute, growing to
// every ten seconds; as often as every quarter second while many waits
// share the sweeps.
func DefaultPollSchedule() PollSchedule {
	return PollSchedule{Delay: time.Second, Interval: time.Second, MinInterval: 250 * time.Millisecond, MaxInterval: 10 * time.Second}
}

func (s PollSchedule) validate() error {
	switch {
	case s.Delay < 0:
		return errors.New("poll delay must not be negative")
	case s.Interval <= 0 || s.MinInterval <= 0:
		return errors.New("poll intervals must be positive")
	case s.MaxInterval < s.Interval || s.Interval < s.MinInterval:
		return errors.New("poll intervals must satisfy min <= interval <= max")
	}
	return nil
}

// steady is the interval of a wait that has run for elapsed without
// anything learned to go on.
func (s PollSchedule) steady(elapsed time.Duration) time.Duration {
	return min(max(s.Interval, elapsed/60), s.MaxInterval)
}

// WaitError ends a wait that ran out of time or was cancelled. It names the
// state the instance was last seen in, which is what a user needs to decide
// whether to wait longer or to look at the instance.
type WaitError struct {
	InstanceID string
	// Goal describes the awaited change, such as "become running".
	Goal string
	// LastState and LastOperationState are empty when no poll answered.
	LastState          State
	LastOperationState string
	// Err is the context's error: context.DeadlineExceeded or context.Canceled.
	Err error
	// LastPollError is the error of the last poll, when it failed.
	LastPollError error
}

func (e *WaitError) Error() string {
	what := "timed out"
	if errors.Is(e.Err, context.Canceled) {
		what = "was cancelled"
	}
	last := "no state was read yet"
	if e.LastState != "" {
		last = fmt.Sprintf("it was last seen in state %q", e.LastState)
		if e.LastOperationState != "" {
			last += fmt.Sprintf(" (operation_state %q)", e.LastOperationState)
		}
	}
	msg := fmt.Sprintf("waiting for instance %s to %s %s; %s", e.InstanceID, e.Goal, what, last)
	if e.LastPollError != nil {
		msg += fmt.Sprintf("; the last poll failed: %v", e.LastPollError)
	}
	return msg
}

func (e *WaitError) Unwrap() error { return e.Err }

// InstanceFailedError ends a wait in which the instance reached the error
// state. Detail is the error the API attached to the instance.
type InstanceFailedError struct {
	InstanceID     string
	Goal           string
	State          State
	OperationState string
	Detail         *InstanceError
}

func (e *InstanceFailedError) Error() string {
	return fmt.Sprintf("instance %s failed to %s: it is in state %q (operation_state %q) with %s",
		e.InstanceID, e.Goal, e.State, e.OperationState, e.Detail.String())
}

// UnexpectedStateError ends a wait in which the instance reached a state that
// is neither on the way to the goal nor the goal itself, including a state
// the client does not know.
type UnexpectedStateError struct {
	InstanceID string
	Goal       string
	State      State
	Expected   []State
}

func (e *UnexpectedStateError) Error() string {
	known := ""
	if !e.State.Known() {
		known = " (a state this provider does not know; the API may be newer than the provider)"
	}
	exp := make([]string, len(e.Expected))
	for i, s := range e.Expected {
		exp[i] = string(s)
	}
	return fmt.Sprintf("while waiting for instance %s to %s it reached state %q%s; expected one of: %s",
		e.InstanceID, e.Goal, e.State, known, strings.Join(exp, ", "))
}

// waitSpec describes one kind of wait.
type waitSpec struct {
	goal    string
	pending []State
	target  []State
	// notFoundIsTarget: a 404 means the goal is reached (deletion).
	notFoundIsTarget bool
	// notListedYet: for this long from the start of the wait, an instance
	// that was never seen is not taken for gone when a listing lacks it.
	// The API may list a new instance a moment after it answered its
	// create: "not listed yet" is not "gone".
	notListedYet time.Duration
	// failed reports whether a status in state error ends the wait.
	failed func(*InstanceStatus) bool
	// done, when set, must also hold for a status in a target state to end
	// the wait (an operation_state check, for operations that do not change
	// the state).
	done func(*InstanceStatus) bool
}

// WaitForInstanceRunning polls until a new instance runs. It fails with
// *InstanceFailedError when the creation failed, and with *WaitError when ctx
// ends first.
func (c *Client) WaitForInstanceRunning(ctx context.Context, id string) (*InstanceStatus, error) {
	return c.wait(ctx, id, waitSpec{
		goal:         "become running",
		pending:      []State{StatePending},
		target:       []State{StateRunning},
		failed:       func(*InstanceStatus) bool { return true },
		notListedYet: time.Minute,
	})
}

// WaitForInstanceTerminated polls until a deleted instance is terminated or
// no longer known to the API.
func (c *Client) WaitForInstanceTerminated(ctx context.Context, id string) (*InstanceStatus, error) {
	return c.wait(ctx, id, waitSpec{
		goal: "be terminated",
		// The API may still report the state from before the DELETE for a
		// moment, so those states count as "not there yet".
		pending:          []State{StateShuttingDown, StatePending, StateRunning, StateStopped, StateStopping},
		target:           []State{StateTerminated},
		notFoundIsTarget: true,
		// An instance that was in error before the DELETE (a failed create)
		// can still show that old error for a moment; only a failed deletion
		// ends the wait.
		failed: func(st *InstanceStatus) bool {
			return st.Error == nil || st.Error.Type == "" || st.Error.Type == ErrorTypeDelete
		},
	})
}

// WaitForReinstall polls until a reinstall ends: operation_state
// reinstall-succeed with the instance running or stopped.
func (c *Client) WaitForReinstall(ctx context.Context, id string) (*InstanceStatus, error) {
	return c.wait(ctx, id, waitSpec{
		goal:    "finish reinstalling its OS",
		pending: []State{StateReinstalling, StatePending},
		target:  []State{StateRunning, StateStopped},
		done:    func(st *InstanceStatus) bool { return st.OperationState == OpReinstallSucceed },
		failed: func(st *InstanceStatus) bool {
			return st.OperationState == OpReinstallFailed || st.Error == nil || st.Error.Type == ErrorTypeReinstall
		},
	})
}

// WaitForModifyIP polls until an IP change ends: operation_state
// modify-ip-succeed with the instance running or stopped.
func (c *Client) WaitForModifyIP(ctx context.Context, id string) (*InstanceStatus, error) {
	return c.wait(ctx, id, waitSpec{
		goal:    "finish changing its IP addresses",
		pending: []State{StateModifyingIP},
		target:  []State{StateRunning, StateStopped},
		done:    func(st *InstanceStatus) bool { return st.OperationState == OpModifyIPSucceed },
		failed: func(st *InstanceStatus) bool {
			return st.OperationState == OpModifyIPFailed || st.Error == nil || st.Error.Type == ErrorTypeModifyIP
		},
	})
}

// WaitForPowerState polls until the instance is running (after a power-on)
// or stopped (after a power-off).
func (c *Client) WaitForPowerState(ctx context.Context, id string, want State) (*InstanceStatus, error) {
	goal := "run"
	if want == StateStopped {
		goal = "stop"
	}
	return c.wait(ctx, id, waitSpec{
		goal:    goal,
		pending: []State{StateRunning, StateStopped, StateStopping},
		target:  []State{want},
		failed:  func(*InstanceStatus) bool { return true },
	})
}

func (c *Client) wait(ctx context.Context, id string, spec waitSpec) (*InstanceStatus, error) {
	return c.watch.wait(ctx, id, spec)
}
