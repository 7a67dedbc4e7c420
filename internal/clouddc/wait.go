package clouddc

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// prior, when set, is the instance as it was read before the request
	// this wait is for. Until the API shows evidence of this operation
	// (shown), statuses are not judged at all: a previous reinstall's
	// reinstall-succeed (or a previous failure) must not end the wait for
	// this one.
	prior *Instance
	// token, for a create wait, is the create's token: the sweep then
	// notes other live instances that carry it (dups, when set, receives
	// them as the wait ends, with when the last whole-project listing that
	// was searched for them started).
	token string
	dups  *Duplicates
	// result, with prior, tells this operation's own result apart from
	// the previous one's when the operation came and went between two
	// polls (a reinstall changes launched_at, an IP change the NICs).
	result func(prior, inst *Instance) bool
}

// shown reports whether inst shows evidence of the operation that a wait
// with prior is for: a state or an operation_state other than before the
// request (the operation in progress, or its end), or its own result. A
// service may show an accepted operation late, and may update updated_at
// before operation_state, so updated_at is no evidence.
func (spec waitSpec) shown(inst *Instance) bool {
	p := spec.prior
	return inst.State != p.State || inst.OperationState != p.OperationState || (spec.result != nil && spec.result(p, inst))
}

// sameNICs reports whether two instances have the same VPC and NICs.
func sameNICs(a, b *Instance) bool {
	return a.VPCID == b.VPCID && slices.Equal(a.NetworkInterfaces, b.NetworkInterfaces)
}

// WaitForInstanceRunning polls until a new instance runs. It fails with
// *InstanceFailedError when the creation failed, and with *WaitError when ctx
// ends first.
func (c *Client) WaitForInstanceRunning(ctx context.Context, id string) (*InstanceStatus, error) {
	return c.watch.await(ctx, id, waitSpec{
		goal:         "become running",
		pending:      []State{StatePending},
		target:       []State{StateRunning},
		failed:       func(*InstanceStatus) bool { return true },
		notListedYet: time.Minute,
	})
}

// WaitForCreate waits, as WaitForInstanceRunning does, for the instance
// that CreateInstance returned to run. While it waits, it also watches for
// other live instances carrying the create's token, as a gateway that
// replays the create makes, when the project is small enough to be listed
// whole for the price of the ID filter (one page). It starts their
// deletion as the wait ends, whatever the wait's outcome, and returns
// what became of them.
func (c *Client) WaitForCreate(ctx context.Context, res CreateResult) (*InstanceStatus, Duplicates, error) {
	var seen Duplicates
	st, err := c.watch.await(ctx, res.ID, waitSpec{
		goal:         "become running",
		pending:      []State{StatePending},
		target:       []State{StateRunning},
		failed:       func(*InstanceStatus) bool { return true },
		notListedYet: time.Minute,
		token:        res.Token,
		dups:         &seen,
	})
	// Unsure until a whole-project listing was searched (ListedAt).
	dups := Duplicates{ListedAt: seen.ListedAt, Unsure: seen.ListedAt.IsZero()}
	if len(seen.Deleted) > 0 {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, dup := range seen.Deleted {
			if c.deleteDuplicate(cleanup, dup, res.ID) {
				dups.Deleted = append(dups.Deleted, dup)
			} else {
				dups.Failed = append(dups.Failed, dup)
			}
		}
	}
	return st, dups, err
}

// WaitForInstanceTerminated polls until a deleted instance is terminated or
// no longer known to the API.
func (c *Client) WaitForInstanceTerminated(ctx context.Context, id string) (*InstanceStatus, error) {
	return c.watch.await(ctx, id, waitSpec{
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

// WaitForReinstall polls until the reinstall that the API accepted after
// prior was read ends: operation_state reinstall-succeed with the instance
// running or stopped. prior is the instance as read before the request
// (GetInstance): until the API shows something new, the status is the
// previous operation's, which may itself be a reinstall-succeed, and is
// not taken for this one's end. A nil prior skips that check.
func (c *Client) WaitForReinstall(ctx context.Context, id string, prior *Instance) (*InstanceStatus, error) {
	return c.watch.await(ctx, id, waitSpec{
		prior:   prior,
		result:  func(p, inst *Instance) bool { return inst.LaunchedAt != p.LaunchedAt },
		goal:    "finish reinstalling its OS",
		pending: []State{StateReinstalling, StatePending},
		target:  []State{StateRunning, StateStopped},
		done:    func(st *InstanceStatus) bool { return st.OperationState == OpReinstallSucceed },
		failed: func(st *InstanceStatus) bool {
			return st.OperationState == OpReinstallFailed || st.Error == nil || st.Error.Type == ErrorTypeReinstall
		},
	})
}

// WaitForModifyIP polls until the IP change that the API accepted after
// prior was read ends: operation_state modify-ip-succeed with the instance
// running or stopped. prior works as for WaitForReinstall.
func (c *Client) WaitForModifyIP(ctx context.Context, id string, prior *Instance) (*InstanceStatus, error) {
	return c.watch.await(ctx, id, waitSpec{
		prior:   prior,
		result:  func(p, inst *Instance) bool { return !sameNICs(p, inst) },
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
	return c.watch.await(ctx, id, waitSpec{
		goal:    goal,
		pending: []State{StateRunning, StateStopped, StateStopping},
		target:  []State{want},
		failed:  func(*InstanceStatus) bool { return true },
	})
}
