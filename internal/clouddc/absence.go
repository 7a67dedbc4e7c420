package clouddc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// This file holds the one rule that decides whether an instance exists
// (DESIGN.md, section 5). Every caller that concludes "gone" or "not made"
// from the API goes through it: the waits' sweep, Read and the refresh
// snapshot, GetInstance, the data sources and the list resource, and the
// create's token lookup.
//
//   - A listing is an answer only when it is complete (listComplete): every
//     page followed to an empty next_marker, the pages adding up to the
//     count the API gives (and giving the same count throughout), and every
//     instance listed one that the filters asked for. A page smaller than
//     limit is normal (a gateway may cap pages, N8); a listing that names
//     an instance that was not asked for means the API ignored the filter
//     (N9), and proves nothing about those that were.
//   - An instance missing from a complete listing is absent as far as the
//     listing goes. Before an irreversible step (removing a resource from
//     state, ending a delete wait, ending a create wait as failed) that is
//     confirmed with the API's own answer about that ID (confirmGone):
//     ShowInstanceStatus answering 404 iMetal.0200, or the state
//     terminated. A listing can be well-formed and still wrong; the
//     per-ID answer is the API's word on that instance.
//   - When the API ignores a filter, the client stops trusting filters for
//     a while and lists the project unfiltered, selecting what was asked
//     for itself: that listing, complete, is a certain answer again.

// maxPages bounds a listing whose markers never end (a loop in the API).
const maxPages = 10000

// filterDistrust is how long the client lists unfiltered after the API
// was seen ignoring a filter. It is not for ever, so that a project that
// is large to list whole is listed by ID again once the gateway behaves.
const filterDistrust = 5 * time.Minute

// filterTrust remembers that the API ignored a filter. Its zero value
// trusts filters.
type filterTrust struct {
	mu    sync.Mutex
	until time.Time
}

func (f *filterTrust) distrusted() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Before(f.until)
}

func (f *filterTrust) distrust() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.until = time.Now().Add(filterDistrust)
}

// hasFilter reports whether a listing asks for a subset of the project.
func (in ListInstancesInput) hasFilter() bool {
	return len(in.InstanceIDs) > 0 || len(in.ServerIDs) > 0 || in.State != ""
}

// unasked says why inst is not something in asked for, or "" if it is.
func (in ListInstancesInput) unasked(inst Instance) string {
	switch {
	case len(in.InstanceIDs) > 0 && !slices.Contains(in.InstanceIDs, inst.ID):
		return fmt.Sprintf("it listed instance %s, which the instance_id filter did not ask for", inst.ID)
	case len(in.ServerIDs) > 0 && !slices.Contains(in.ServerIDs, inst.ServerID):
		return fmt.Sprintf("it listed instance %s on server %s, which the server_id filter did not ask for", inst.ID, inst.ServerID)
	case in.State != "" && inst.State != NormalizeState(string(in.State)):
		return fmt.Sprintf("it listed instance %s in state %q, which the instance_state filter did not ask for", inst.ID, inst.State)
	}
	return ""
}

// listComplete reads a complete listing for in's filters (Limit and Marker
// are managed here) or fails with an *IncompleteListingError. stop, when
// set, may end the listing early (it sees the first page's count);
// listComplete then reports stopped.
func (c *Client) listComplete(ctx context.Context, in ListInstancesInput, stop func(count int) bool) (_ []Instance, stopped bool, _ error) {
	if !in.hasFilter() || !c.filters.distrusted() {
		all, stopped, err := c.listPages(ctx, in, stop)
		var incomplete *IncompleteListingError
		if !errors.As(err, &incomplete) || !incomplete.filterIgnored {
			return all, stopped, err
		}
		c.filters.distrust()
		c.logger.WarnContext(ctx, "the API ignored a ListInstances filter; listing the project unfiltered for a while instead",
			"reason", incomplete.Reason, "for", filterDistrust.String())
	}
	whole, stopped, err := c.listPages(ctx, ListInstancesInput{}, stop)
	if err != nil || stopped {
		return nil, stopped, err
	}
	var out []Instance
	for _, inst := range whole {
		if in.unasked(inst) == "" {
			out = append(out, inst)
		}
	}
	return out, false, nil
}

// listPages reads every page of one listing and checks that it is
// complete (see the top of this file).
func (c *Client) listPages(ctx context.Context, in ListInstancesInput, stop func(count int) bool) (_ []Instance, stopped bool, _ error) {
	in.Limit, in.Marker = MaxPageSize, ""
	incomplete := func(reason string, ignored bool) error {
		return &IncompleteListingError{Method: http.MethodGet, Path: c.projectPath("instances"), Reason: reason, filterIgnored: ignored}
	}
	var all []Instance
	seen := map[string]bool{}
	markers := map[string]bool{}
	count := -1
	for pages := 1; ; pages++ {
		page, err := c.ListInstances(ctx, in)
		if err != nil {
			return nil, false, err
		}
		if stop != nil && pages == 1 && stop(page.Count) {
			return nil, true, nil
		}
		if count >= 0 && page.Count != count {
			return nil, false, incomplete(fmt.Sprintf("the count changed from %d to %d between pages: the project changed while it was listed", count, page.Count), false)
		}
		count = page.Count
		for _, inst := range page.Instances {
			if why := in.unasked(inst); why != "" {
				return nil, false, incomplete("the API ignored a filter: "+why, true)
			}
			if !seen[inst.ID] {
				seen[inst.ID] = true
				all = append(all, inst)
			}
		}
		next := page.PageInfo.NextMarker
		switch {
		case next == "":
			if len(all) != count {
				return nil, false, incomplete(fmt.Sprintf("%d pages listed %d distinct instances, count says %d", pages, len(all), count), false)
			}
			return all, false, nil
		case len(page.Instances) == 0 || markers[next] || pages >= maxPages:
			// A marker that leads nowhere, or back to a page already read.
			return nil, false, incomplete(fmt.Sprintf("page %d has next_marker %q, which leads nowhere new", pages, next), false)
		}
		markers[next] = true
		in.Marker = next
	}
}

// listProject is a complete listing of the whole project; it records the
// project's size, which tells the waits' sweep whether listing the project
// costs more than listing by ID.
func (c *Client) listProject(ctx context.Context) ([]Instance, error) {
	all, _, err := c.listComplete(ctx, ListInstancesInput{}, nil)
	if err == nil {
		c.projectSize.Store(int64(len(all)))
	}
	return all, err
}

// listAll is listComplete, listing again (on the retry policy's schedule)
// when the pages do not add up: the project may have changed between two
// pages, or a page lost items on its way.
func (c *Client) listAll(ctx context.Context, in ListInstancesInput) ([]Instance, error) {
	start := time.Now()
	for attempt := 0; ; attempt++ {
		all, _, err := c.listComplete(ctx, in, nil)
		// A page that was itself incomplete was already retried by do();
		// listing again here would multiply the retries. Only pages that
		// each looked whole but do not add up are listed again.
		var incomplete *IncompleteListingError
		var spent *RetriesExhaustedError
		if !errors.As(err, &incomplete) || errors.As(err, &spent) {
			return all, err
		}
		if attempt >= c.retry.MaxRetries {
			return nil, &RetriesExhaustedError{Retries: attempt, Elapsed: time.Since(start), Err: err}
		}
		c.logger.WarnContext(ctx, "a listing was not complete; listing again", "attempt", attempt+1, "error", err.Error())
		if ctxErr := sleep(ctx, c.retry.delay(attempt, err)); ctxErr != nil {
			return nil, &RetriesStoppedError{Retries: attempt, Elapsed: time.Since(start), Err: err, Cause: ctxErr}
		}
	}
}

// lookUp lists the instances ids (by the ID filter, MaxFilterIDs per
// listing, each complete) and returns those that are listed. An ID missing
// from the result is absent as far as a complete listing goes; confirm it
// with confirmGone before acting on it.
func (c *Client) lookUp(ctx context.Context, ids []string) (map[string]Instance, error) {
	found := make(map[string]Instance, len(ids))
	for chunk := range slices.Chunk(ids, MaxFilterIDs) {
		list, _, err := c.listComplete(ctx, ListInstancesInput{InstanceIDs: chunk}, nil)
		if isInstanceNotFound(err) {
			// The API's "not found" for a filter says that at least one of
			// the IDs does not exist, not which: ask for each alone.
			if len(chunk) > 1 {
				for _, id := range chunk {
					one, err := c.lookUp(ctx, []string{id})
					if err != nil {
						return nil, err
					}
					maps.Copy(found, one)
				}
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, inst := range list {
			found[inst.ID] = inst
		}
	}
	return found, nil
}

// Gone is what confirmGone learned about an instance that a complete
// listing did not show.
type Gone int

const (
	// NotGone: the API still knows the instance (the listing was wrong).
	NotGone Gone = iota
	// GoneNotFound: ShowInstanceStatus answered 404 iMetal.0200.
	GoneNotFound
	// GoneTerminated: ShowInstanceStatus answered the state terminated.
	GoneTerminated
)

// confirmGone asks the API about one instance that a complete listing did
// not show. Only its own answer about that ID settles it: a 404 with
// iMetal.0200, or the state terminated. When it reports the instance in
// another state, the listing was wrong: the result is an
// *IncompleteListingError (transient), so that the caller looks again
// rather than act on it. Any other failure is returned as it is.
func (c *Client) confirmGone(ctx context.Context, id string) (Gone, error) {
	st, err := c.ShowInstanceStatus(ctx, id)
	switch {
	case isInstanceNotFound(err):
		return GoneNotFound, nil
	case err != nil:
		return NotGone, err
	case st.State == StateTerminated:
		return GoneTerminated, nil
	}
	return NotGone, &IncompleteListingError{Method: http.MethodGet, Path: c.projectPath("instances"),
		Reason: fmt.Sprintf("a complete listing did not show instance %s, but ShowInstanceStatus reports it in state %q", id, st.State)}
}

// GetInstance reads one instance with a call of its own, for a caller that
// must see the API's answer now (after a change it made); a refresh uses
// GetInstanceCoalesced instead. The API has no endpoint for a single
// instance, so this is a complete listing filtered by the ID. An instance
// that is not listed, and that ShowInstanceStatus confirms is gone, gives
// an error matching ErrNotFound.
func (c *Client) GetInstance(ctx context.Context, id string) (*Instance, error) {
	if err := checkInstanceID(id); err != nil {
		return nil, err
	}
	found, err := c.lookUp(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if inst, ok := found[id]; ok {
		return &inst, nil
	}
	return nil, c.notListed(ctx, id)
}

// notListed is the error for an instance that a complete listing did not
// show: ErrNotFound once the API confirms it is gone, otherwise why not.
func (c *Client) notListed(ctx context.Context, id string) error {
	gone, err := c.confirmGone(ctx, id)
	if err != nil {
		return err
	}
	msg := "instance " + id + " is not listed, and the API answers that it does not exist"
	if gone == GoneTerminated {
		msg = "instance " + id + " is not listed, and the API reports it terminated"
	}
	return &APIError{StatusCode: http.StatusNotFound, Code: CodeInstanceNotFound, Message: msg,
		Method: http.MethodGet, Path: c.projectPath("instances", id, "status")}
}

// isInstanceNotFound reports the API's own answer that an instance does
// not exist: HTTP 404 with error_code iMetal.0200. A 404 without it (from
// a gateway or a proxy) says nothing about any instance.
func isInstanceNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.Code == CodeInstanceNotFound
}
