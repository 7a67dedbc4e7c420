package clouddc

import (
	"context"
	"time"
)

// WaitForReinstallSince waits for the end of a reinstall that the API
// accepted after prior was read (prior is the instance as it was before
// the request).
//
// WaitForReinstall ends at operation_state reinstall-succeed. When the
// instance's previous reinstall also ended there, that state alone cannot
// tell this reinstall's end from the last one's: a service that shows an
// accepted request a moment late would still report the old
// reinstall-succeed. Then this wait first waits for evidence of the new
// reinstall: an operation_state other than reinstall-succeed (the new
// reinstall shows, and WaitForReinstall follows it), or reinstall-succeed
// with another launched_at or updated_at than prior's (it showed and ended
// between two polls). A blip does not end the wait; when ctx ends first,
// the *WaitError names the state last seen.
func (c *Client) WaitForReinstallSince(ctx context.Context, prior *Instance) (*InstanceStatus, error) {
	if prior.OperationState != OpReinstallSucceed {
		return c.WaitForReinstall(ctx, prior.ID)
	}
	const goal = "finish reinstalling its OS"
	start := time.Now()
	var last *Instance
	var lastErr error
	timer := time.NewTimer(c.poll.Delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			e := &WaitError{InstanceID: prior.ID, Goal: goal, Err: ctx.Err(), LastPollError: lastErr}
			if last != nil {
				e.LastState, e.LastOperationState = last.State, last.OperationState
			}
			return nil, e
		case <-timer.C:
		}
		inst, err := c.GetInstance(ctx, prior.ID)
		switch {
		case err != nil && ctx.Err() != nil:
			continue // reported as a timeout above
		case err != nil && IsTransient(err):
			lastErr = err
		case err != nil:
			return nil, err
		default:
			last, lastErr = inst, nil
			observe(ctx, Observation{ID: prior.ID, Goal: goal, State: string(inst.State), OperationState: inst.OperationState, Elapsed: time.Since(start)})
			switch {
			case inst.OperationState != OpReinstallSucceed:
				return c.WaitForReinstall(ctx, prior.ID)
			case inst.LaunchedAt != prior.LaunchedAt || inst.UpdatedAt != prior.UpdatedAt:
				return &InstanceStatus{State: inst.State, OperationState: inst.OperationState, Error: inst.Error}, nil
			}
		}
		timer.Reset(c.poll.steady(time.Since(start)))
	}
}
