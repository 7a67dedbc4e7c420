package clouddc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ServerWaitError ends a wait for a physical server's power state that ran
// out of time, was cancelled, or saw a power state that is not on the way
// to the goal.
type ServerWaitError struct {
	ServerID string
	// Goal is the awaited power state, such as "on".
	Goal string
	// LastPowerState is "" when no poll answered.
	LastPowerState string
	// Err is the context's error, or nil when an unexpected power state
	// ended the wait.
	Err error
	// LastPollError is the error of the last poll, when it failed.
	LastPollError error
}

func (e *ServerWaitError) Error() string {
	last := "no power state was read yet"
	if e.LastPowerState != "" {
		last = fmt.Sprintf("it was last seen with power state %q", e.LastPowerState)
	}
	var msg string
	switch {
	case e.Err == nil:
		msg = fmt.Sprintf("while waiting for physical server %s to be powered %s, it reached power state %q, which is not on the way there",
			e.ServerID, e.Goal, e.LastPowerState)
	case errors.Is(e.Err, context.Canceled):
		msg = fmt.Sprintf("waiting for physical server %s to be powered %s was cancelled; %s", e.ServerID, e.Goal, last)
	default:
		msg = fmt.Sprintf("waiting for physical server %s to be powered %s timed out; %s", e.ServerID, e.Goal, last)
	}
	if e.LastPollError != nil {
		msg += fmt.Sprintf("; the last poll failed: %v", e.LastPollError)
	}
	return msg
}

func (e *ServerWaitError) Unwrap() error { return e.Err }

// WaitForServerPower polls a physical server until its power state is want
// (PowerOn or PowerOff), reading it with ShowServer on the client's poll
// schedule. The transitional states (powering-on, powering-off, rebooting)
// and the opposite state count as not there yet: the API may report the
// state from before the request for a moment. A poll that fails with a
// transient error (after the client's own retries) does not end the wait;
// any other error does. When ctx ends first, the error is a
// *ServerWaitError that names the power state last seen.
func (c *Client) WaitForServerPower(ctx context.Context, serverID, want string) (*PhysicalServer, error) {
	srv, _, err := c.waitForServerPower(ctx, serverID, want, false)
	return srv, err
}

// RebootGrace is how long WaitForServerReboot waits to see a server leave
// the on state before it accepts on as the end of the reboot: ten poll
// intervals of the client's schedule (ten seconds by default).
func (c *Client) RebootGrace() time.Duration { return 10 * c.poll.Interval }

// WaitForServerReboot waits for the end of a reboot that the API accepted:
// the server on again. A server starts and ends a reboot on, and the API
// may report on for a moment after accepting the request, before the
// reboot shows; so on counts as the end only once the server was seen in
// another state, or after RebootGrace without seeing one. seen reports
// which: false means that the reboot either came and went between two
// polls or had not shown yet, which the caller should say.
func (c *Client) WaitForServerReboot(ctx context.Context, serverID string) (srv *PhysicalServer, seen bool, err error) {
	return c.waitForServerPower(ctx, serverID, PowerOn, true)
}

func (c *Client) waitForServerPower(ctx context.Context, serverID, want string, mustLeave bool) (*PhysicalServer, bool, error) {
	pending := []string{PowerPoweringOn, PowerPoweringOff, PowerRebooting, PowerOn, PowerOff}
	goal := "powered " + want
	if mustLeave {
		goal = "rebooted"
	}
	start := time.Now()
	var last *PhysicalServer
	var lastErr error
	left := false
	timer := time.NewTimer(c.poll.Delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			e := &ServerWaitError{ServerID: serverID, Goal: want, Err: ctx.Err(), LastPollError: lastErr}
			if last != nil {
				e.LastPowerState = last.PowerState
			}
			return last, left, e
		case <-timer.C:
		}
		srv, err := c.ShowServer(ctx, serverID)
		switch {
		case err != nil && ctx.Err() != nil:
			continue // reported as a timeout above
		case err != nil && IsTransient(err):
			lastErr = err
			c.logger.WarnContext(ctx, "polling the physical server failed; will poll again", "server_id", serverID, "error", err.Error())
		case err != nil:
			return last, left, err
		default:
			last, lastErr = srv, nil
			observe(ctx, Observation{ID: serverID, Goal: goal, State: srv.PowerState, Elapsed: time.Since(start)})
			if srv.PowerState != want {
				left = true
			}
			if srv.PowerState == want && (!mustLeave || left || time.Since(start) >= c.RebootGrace()) {
				return srv, left, nil
			}
			if !slices.Contains(pending, srv.PowerState) {
				return srv, left, &ServerWaitError{ServerID: serverID, Goal: want, LastPowerState: srv.PowerState}
			}
		}
		timer.Reset(c.poll.steady(time.Since(start)))
	}
}
