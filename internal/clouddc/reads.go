package clouddc

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// During a refresh Terraform reads every resource, ten at a time by
// default. Read coalesces those reads: the reads that arrive within a short
// window share one ListInstances call filtered by their IDs. When many
// reads arrive (a refresh is under way) and the project is not huge, it
// lists the whole project once instead, a thousand instances per call, and
// answers the reads of the next moments from that listing: a refresh of a
// thousand instances then costs one or two calls instead of a thousand.
//
// Whether an instance is gone is decided by the one rule of absence.go: a
// complete listing that does not show it, confirmed by the API's own
// answer about that ID. A whole-project listing that is not complete makes
// the reads fall back to filtered calls. An error fails only the reads
// that were waiting for that call.

const (
	// readWindow is how long a read waits for others to share its call.
	readWindow = 15 * time.Millisecond
	// snapshotTTL is how long a whole-project listing answers reads.
	snapshotTTL = 2 * time.Second
	// snapshotMinReads: this many reads in one window, or a second batch
	// soon after the first, means a refresh is under way.
	snapshotMinReads = 5
	// snapshotMaxInstances: larger projects are read with filtered calls,
	// since listing them whole would cost more than it saves.
	snapshotMaxInstances = 5000
)

type reader struct {
	c *Client
	// maxSnapshot is snapshotMaxInstances; tests lower it.
	maxSnapshot int

	mu        sync.Mutex
	pending   map[string][]chan readResult
	armed     bool
	lastBatch time.Time
	snap      *snapshot
	// fetching is closed when the whole-project listing in flight ends;
	// reads that arrive meanwhile wait for it rather than list again.
	fetching chan struct{}
}

type snapshot struct {
	taken time.Time
	byID  map[string]Instance
}

type readResult struct {
	inst *Instance
	err  error
}

func newReader(c *Client) *reader {
	return &reader{c: c, maxSnapshot: snapshotMaxInstances, pending: map[string][]chan readResult{}}
}

// GetInstanceCoalesced reads one instance like GetInstance, but shares the
// API call with the other reads made at the same moment, or answers from a
// fresh whole-project listing (see reader): the read of a refresh. A
// missing instance gives an error matching ErrNotFound.
func (c *Client) GetInstanceCoalesced(ctx context.Context, id string) (*Instance, error) {
	return c.reads.read(ctx, id)
}

func (r *reader) read(ctx context.Context, id string) (*Instance, error) {
	ch := make(chan readResult, 1)
	r.mu.Lock()
	for r.fetching != nil {
		f := r.fetching
		r.mu.Unlock()
		select {
		case <-f:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r.mu.Lock()
	}
	if s := r.snap; s != nil && time.Since(s.taken) < snapshotTTL {
		r.mu.Unlock()
		return s.lookup(ctx, r.c, id)
	}
	r.pending[id] = append(r.pending[id], ch)
	if !r.armed {
		r.armed = true
		time.AfterFunc(readWindow, func() { r.flush(r.c.backgroundCtx(ctx)) })
	}
	r.mu.Unlock()
	select {
	case res := <-ch:
		return res.inst, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lookup answers a read from the snapshot. An instance the snapshot does
// not show is confirmed gone with the API before the read says so.
func (s *snapshot) lookup(ctx context.Context, c *Client, id string) (*Instance, error) {
	if in, ok := s.byID[id]; ok {
		return &in, nil
	}
	return nil, c.notListed(ctx, id)
}

// flush answers the reads that gathered in the window.
func (r *reader) flush(ctx context.Context) {
	r.mu.Lock()
	batch := r.pending
	r.pending = map[string][]chan readResult{}
	r.armed = false
	busy := len(batch) >= snapshotMinReads || time.Since(r.lastBatch) < time.Second
	r.lastBatch = time.Now()
	var done chan struct{}
	if busy {
		done = make(chan struct{})
		r.fetching = done
	}
	r.mu.Unlock()
	ids := make([]string, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	if busy {
		s, err := r.listProject(ctx)
		r.mu.Lock()
		if s != nil {
			r.snap = s
		}
		r.fetching = nil
		close(done)
		r.mu.Unlock()
		if s != nil {
			for _, id := range ids {
				inst, err := s.lookup(ctx, r.c, id)
				deliverRead(batch[id], inst, err)
			}
			return
		}
		var incomplete *IncompleteListingError
		var tooLarge *ResponseTooLargeError
		switch {
		case errors.As(err, &incomplete) || errors.As(err, &tooLarge):
			// The whole-project listing cannot be trusted (a page lost
			// items, or the project changed while it was listed): read
			// these instances by ID, a hundred per call, instead.
			r.c.logger.WarnContext(ctx, "listing the whole project failed; reading the instances by ID instead", "error", err.Error())
		case err != nil:
			for _, id := range ids {
				deliverRead(batch[id], nil, err)
			}
			return
		}
		// The project is too large to list whole, or its listing was not
		// complete: read by ID.
	}
	r.readIDs(ctx, ids, batch)
}

// readIDs answers the reads of ids with listings filtered by their IDs.
func (r *reader) readIDs(ctx context.Context, ids []string, batch map[string][]chan readResult) {
	found, err := r.c.lookUp(ctx, ids)
	for _, id := range ids {
		inst, ok := found[id]
		switch {
		case err != nil:
			deliverRead(batch[id], nil, err)
		case ok:
			deliverRead(batch[id], &inst, nil)
		default:
			deliverRead(batch[id], nil, r.c.notListed(ctx, id))
		}
	}
}

// listProject lists every instance of the project, or returns nil when the
// project has more than snapshotMaxInstances. It fails with an
// *IncompleteListingError when the pages do not add up to the API's count.
func (r *reader) listProject(ctx context.Context) (*snapshot, error) {
	s := &snapshot{taken: time.Now(), byID: map[string]Instance{}}
	all, tooLarge, err := r.c.listComplete(ctx, ListInstancesInput{}, func(count int) bool { return count > r.maxSnapshot })
	if err != nil || tooLarge {
		return nil, err
	}
	r.c.projectSize.Store(int64(len(all)))
	for _, i := range all {
		s.byID[i.ID] = i
	}
	return s, nil
}

func deliverRead(chs []chan readResult, inst *Instance, err error) {
	for _, ch := range chs {
		var cp *Instance
		if inst != nil {
			c := *inst
			cp = &c
		}
		ch <- readResult{inst: cp, err: err}
	}
}
