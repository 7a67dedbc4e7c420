package clouddc

import (
	"context"
	"errors"
)

// TerminateInstance deletes an instance and waits until it is terminated
// or gone; an instance that is already gone is success.
//
// It sends DELETE without checking the state first. The API answers a
// DELETE of an instance that is already shutting down with 204 and leaves
// that deletion as it is (DESIGN.md, D3), so an interrupted
// destroy, or someone else's deletion, is waited for rather than started
// again, and a failed deletion (state error) is retried. A status check
// first would cost a call per instance and still race with the others.
//
// deleteAccepted reports whether the API accepted the DELETE, so that a
// deletion was under way when it returned: an error then comes from the
// wait, and the deletion may still finish.
func (c *Client) TerminateInstance(ctx context.Context, id string) (deleteAccepted bool, err error) {
	if err := c.DeleteInstance(ctx, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			c.logger.InfoContext(ctx, "instance already gone", "instance_id", id)
			return false, nil
		}
		return false, err
	}
	c.logger.InfoContext(ctx, "instance deletion under way; waiting for it to be terminated", "instance_id", id)
	_, err = c.WaitForInstanceTerminated(ctx, id)
	return true, err
}
