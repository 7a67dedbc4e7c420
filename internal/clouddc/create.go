package clouddc

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// createClockSkew is how much earlier than the request the API's created_at
// may read, from clock skew between this machine and the API and the
// API's one-second resolution, for an instance to count as made by it.
const createClockSkew = 2 * time.Minute

// CreateResult says how CreateInstanceSafely got its instance.
type CreateResult struct {
	// ID is the new instance's ID.
	ID string
	// Adopted: a create's outcome was unknown, and the instance it had made
	// was found and adopted instead of creating another.
	Adopted bool
	// Attempts is how many CreateInstance requests were sent.
	Attempts int
}

// CreateInstanceSafely creates an instance without ever making two.
//
// CreateInstance has no idempotency key, so a request whose outcome is
// unknown (a 5xx, or a connection lost after the request went out) must not
// simply be resent. Instead the client looks for the instance the request
// may have made: same name, same server when one was requested, created
// after the request started. If it is there, it is adopted; if it is
// certainly absent, the request is sent again. If the lookup itself fails,
// the client gives up rather than risk a duplicate.
func (c *Client) CreateInstanceSafely(ctx context.Context, in CreateInstanceInput) (CreateResult, error) {
	started := time.Now()
	var res CreateResult
	for {
		res.Attempts++
		id, err := c.CreateInstance(ctx, in)
		if err == nil {
			res.ID = id
			return res, nil
		}
		var unknown *OutcomeUnknownError
		if !errors.As(err, &unknown) {
			return res, err
		}
		if res.Attempts > c.retry.MaxRetries {
			return res, err
		}
		c.logger.WarnContext(ctx, "the outcome of CreateInstance is unknown; looking for the instance it may have made",
			"name", in.Name, "attempt", res.Attempts, "error", err.Error())
		// Give the API a moment to list what it may have created.
		if ctxErr := sleep(ctx, c.retry.delay(res.Attempts-1, err)); ctxErr != nil {
			return res, fmt.Errorf("%w (stopped: %w)", err, ctxErr)
		}
		found, lookupErr := c.findCreated(ctx, in, started)
		if lookupErr != nil {
			return res, fmt.Errorf("%w; looking for the instance it may have made failed too, so it was not sent again "+
				"(check for an instance named %q before retrying): %w", err, in.Name, lookupErr)
		}
		if found != nil {
			c.logger.InfoContext(ctx, "adopted the instance that the create with an unknown outcome had made",
				"instance_id", found.ID, "name", in.Name, "state", string(found.State))
			res.ID, res.Adopted = found.ID, true
			return res, nil
		}
		c.logger.InfoContext(ctx, "no instance was made by the create with an unknown outcome; sending it again", "name", in.Name)
	}
}

// findCreated looks for an instance that a create of in, started at
// started, made. It returns nil when there is none.
func (c *Client) findCreated(ctx context.Context, in CreateInstanceInput, started time.Time) (*Instance, error) {
	list := ListInstancesInput{Limit: MaxPageSize}
	if in.Placement != nil && in.Placement.ServerID != "" {
		list.ServerIDs = []string{in.Placement.ServerID}
	}
	since := started.Add(-createClockSkew)
	var best *Instance
	for {
		page, err := c.ListInstances(ctx, list)
		if err != nil {
			return nil, err
		}
		for i := range page.Instances {
			inst := &page.Instances[i]
			if inst.Name != in.Name || inst.State == StateTerminated || inst.State == StateShuttingDown {
				continue
			}
			if list.ServerIDs != nil && inst.ServerID != in.Placement.ServerID {
				continue
			}
			created, err := time.Parse(time.RFC3339, inst.CreatedAt)
			if err != nil || created.Before(since) {
				continue
			}
			if best == nil || inst.CreatedAt > best.CreatedAt {
				best = inst
			}
		}
		if page.PageInfo.NextMarker == "" || len(page.Instances) == 0 {
			return best, nil
		}
		list.Marker = page.PageInfo.NextMarker
	}
}
