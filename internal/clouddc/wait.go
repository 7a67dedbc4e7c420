package clouddc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PollSchedule says when a wait polls: first after Delay, then every
// MinInterval, growing by Multiplier after each answer that shows no
// progress, up to MaxInterval.
type PollSchedule struct {
	Delay       time.Duration
	MinInterval time.Duration
	MaxInterval time.Duration
	Multiplier  float64
}

// DefaultPollSchedule is the schedule used when none is configured.
func DefaultPollSchedule() PollSchedule {
	return PollSchedule{Delay: time.Second, MinInterval: time.Second, MaxInterval: 10 * time.Second, Multiplier: 1.5}
}

func (s PollSchedule) validate() error {
	switch {
	case s.Delay < 0:
		return errors.New("poll delay must not be negative")
	case s.MinInterval <= 0:
		return errors.New("poll interval must be positive")
	case s.MaxInterval < s.MinInterval:
		return errors.New("maximum poll interval must not be below the minimum")
	case s.Multiplier < 1:
		return errors.New("poll multiplier must be at least 1")
	}
	return nil
}

func (s PollSchedule) next(cur time.Duration) time.Duration {
	n := time.Duration(float64(cur) * s.Multiplier)
	return min(max(n, s.MinInterval), s.MaxInterval)
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
		goal:    "become running",
		pending: []State{StatePending},
		target:  []State{StateRunning},
		failed:  func(*InstanceStatus) bool { return true },
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
	sched := c.poll
	interval := sched.MinInterval
	timer := time.NewTimer(sched.Delay)
	defer timer.Stop()

	var last *InstanceStatus
	var lastPollErr error
	waitErr := func() error {
		e := &WaitError{InstanceID: id, Goal: spec.goal, Err: ctx.Err(), LastPollError: lastPollErr}
		if last != nil {
			e.LastState, e.LastOperationState = last.State, last.OperationState
		}
		return e
	}
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return last, waitErr()
		case <-timer.C:
		}

		st, err := c.ShowInstanceStatus(ctx, id)
		lastPollErr = nil
		switch {
		case err == nil:
		case spec.notFoundIsTarget && errors.Is(err, ErrNotFound):
			c.logger.DebugContext(ctx, "instance no longer found; treating it as terminated", "instance_id", id)
			return &InstanceStatus{State: StateTerminated}, nil
		case ctx.Err() != nil:
			return last, waitErr()
		case IsTransient(err):
			// A blip while polling does not end the wait: the instance's
			// state is unchanged by it. Poll again on the schedule.
			lastPollErr = err
			c.logger.WarnContext(ctx, "polling the instance failed; will poll again", "instance_id", id, "error", err.Error())
			timer.Reset(interval)
			interval = sched.next(interval)
			continue
		default:
			return last, err
		}

		progressed := last == nil || last.State != st.State || last.OperationState != st.OperationState
		last = st
		if progressed {
			c.logger.DebugContext(ctx, "instance state", "instance_id", id, "state", string(st.State),
				"operation_state", st.OperationState, "elapsed_ms", time.Since(start).Milliseconds())
		}
		switch {
		case slices.Contains(spec.target, st.State) && (spec.done == nil || spec.done(st)):
			return st, nil
		case st.State == StateError && spec.failed(st):
			return st, &InstanceFailedError{InstanceID: id, Goal: spec.goal, State: st.State, OperationState: st.OperationState, Detail: st.Error}
		case st.State == StateError || slices.Contains(spec.pending, st.State) || slices.Contains(spec.target, st.State):
			// keep waiting
		default:
			return st, &UnexpectedStateError{InstanceID: id, Goal: spec.goal, State: st.State, Expected: append(slices.Clone(spec.pending), spec.target...)}
		}
		if progressed {
			interval = sched.MinInterval
		} else {
			interval = sched.next(interval)
		}
		timer.Reset(interval)
	}
}
