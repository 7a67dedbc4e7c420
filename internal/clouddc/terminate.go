package clouddc

import (
	"context"
	"errors"
)

// TerminateInstance deletes an instance and waits until it is terminated
// or gone. When a deletion is already under way (an interrupted destroy,
// or someone else's), it does not start another but waits for that one; an
// instance that is already gone is success. The status check is a
// coalesced read, so that deleting many instances at once costs a shared
// call, not one per instance.
//
// deleting reports whether a deletion was under way when it returned
// (started here or found running): an error then comes from the wait, and
// the deletion may still finish on its own.
func (c *Client) TerminateInstance(ctx context.Context, id string) (deleting bool, err error) {
	inst, err := c.ReadInstance(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		c.logger.InfoContext(ctx, "instance already gone", "instance_id", id)
		return false, nil
	case err != nil:
		return false, err
	case inst.State == StateTerminated:
		c.logger.InfoContext(ctx, "instance already terminated", "instance_id", id)
		return false, nil
	case inst.State == StateShuttingDown:
		c.logger.InfoContext(ctx, "instance is already shutting down; waiting for it", "instance_id", id)
	default:
		if err := c.DeleteInstance(ctx, id); err != nil {
			if errors.Is(err, ErrNotFound) {
				return false, nil
			}
			return false, err
		}
		c.logger.InfoContext(ctx, "instance deletion started; waiting for it to be terminated", "instance_id", id)
	}
	_, err = c.WaitForInstanceTerminated(ctx, id)
	return true, err
}
