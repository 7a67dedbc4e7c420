package clouddc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Looking for the instance of a create by its token. An instance carrying
// a token can be on any server and have any name, so only a complete
// listing of the whole project (absence.go's rule) can show that none
// does. Every lookup of a client shares those listings: a lookup asks for
// "a complete listing that started no earlier than now", and all that ask
// while one is pending get the same one. The listings are at least
// CreateLookup.MinGap apart, so ten creates refused at once in a 503 storm
// cost a couple of listings a second for the whole process, not ten.

// projectListing is one complete whole-project listing, or its failure.
type projectListing struct {
	started time.Time
	all     []Instance
	err     error
	done    chan struct{} // closed once all and err are set
}

// projectLister shares whole-project listings between lookups.
type projectLister struct {
	c *Client

	mu       sync.Mutex
	last     *projectListing // the newest listing, finished or not
	nextFrom time.Time       // no listing starts before this
}

// since returns a complete listing of the whole project that started at
// or after t, listing anew when none did (or joining the one that will).
func (p *projectLister) since(ctx context.Context, t time.Time) ([]Instance, error) {
	all, _, err := p.sinceStarted(ctx, t)
	return all, err
}

// sinceStarted is since, and also says when the listing started.
func (p *projectLister) sinceStarted(ctx context.Context, t time.Time) ([]Instance, time.Time, error) {
	for {
		p.mu.Lock()
		l := p.last
		if l == nil || l.started.Before(t) {
			l = p.startLocked(t)
		}
		p.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		}
		if !l.started.Before(t) {
			return l.all, l.started, l.err
		}
	}
}

// startLocked schedules a listing at the first moment allowed after t.
// It runs on a context of its own (bounded), since several lookups with
// contexts of their own wait for it; a lookup that gives up stops waiting.
func (p *projectLister) startLocked(t time.Time) *projectListing {
	at := latest(t, p.nextFrom, time.Now())
	if p.last != nil {
		select {
		case <-p.last.done:
		default:
			// The one in flight started before t: start after it ends.
			at = latest(at, p.last.started.Add(p.c.creates.settings().MinGap))
		}
	}
	prev := p.last
	l := &projectListing{started: at, done: make(chan struct{})}
	p.last = l
	p.nextFrom = at.Add(p.c.creates.settings().MinGap)
	go func() {
		defer close(l.done)
		if prev != nil {
			<-prev.done
		}
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		ctx, cancel := context.WithTimeout(p.c.backgroundCtx(context.Background()), 2*time.Minute)
		defer cancel()
		l.all, l.err = p.c.listProject(ctx)
	}()
	return l
}

// tokenHolders lists, in a complete listing that started at or after t,
// the live instances that carry token and that no create of this client
// has returned yet.
func (c *Client) tokenHolders(ctx context.Context, token string, t time.Time) ([]Instance, error) {
	all, err := c.projects.since(ctx, t)
	if err != nil {
		return nil, err
	}
	var out []Instance
	for _, inst := range all {
		if inst.Metadata[CreateTokenKey] == token && inst.State != StateTerminated && inst.State != StateShuttingDown &&
			!c.creates.isClaimed(inst.ID) {
			out = append(out, inst)
		}
	}
	return out, nil
}

// lookResult is what lookForCreate saw.
type lookResult struct {
	holders []Instance // live instances carrying the token
	absent  bool       // a complete listing after the window's end showed none
	err     error      // the last listing's error
}

// lookForCreate lists the instances, with back-off, until one carries the
// token or the window since unknownSince has passed. It stops early when
// ctx ends.
func (c *Client) lookForCreate(ctx context.Context, in CreateInstanceInput, token string, unknownSince time.Time, s CreateLookup) lookResult {
	deadline := unknownSince.Add(s.Window)
	// Listings that fail are tried again a while past the window, so that
	// one blip at its end does not make the create uncertain.
	giveUp := deadline.Add(s.Window / 2)
	var res lookResult
	delay := s.FirstDelay
	for {
		if left := time.Until(deadline); left > 0 && delay > left {
			delay = left // take the last listing at the window's end
		}
		if sleep(ctx, delay) != nil {
			return res
		}
		asked := time.Now()
		holders, err := c.tokenHolders(ctx, token, asked)
		switch {
		case err == nil && len(holders) > 0:
			return lookResult{holders: holders}
		case err == nil && !asked.Before(deadline):
			return lookResult{absent: true}
		case err != nil:
			res.err = err
			if ctx.Err() != nil {
				return res
			}
			c.logger.WarnContext(ctx, "looking for the instance of a create with an unknown outcome failed; trying again",
				"name", in.Name, "error", err.Error())
			if asked.After(giveUp) {
				return res
			}
		}
		delay = min(2*delay, s.MaxDelay)
	}
}

// adopt takes the instance a create made, from the live instances that
// carry its token: one that matches what was sent, the oldest first. It
// starts the deletion of the others, since all carry the token and so all
// were made by this create. An instance that does not match what was sent
// is still this create's: it comes back in a *CreateUncertainError whose
// InstanceID names it, so that the caller keeps it rather than orphan it.
func (c *Client) adopt(ctx context.Context, res CreateResult, in CreateInstanceInput, holders []Instance, createErr error) (CreateResult, error) {
	r := resolution(in, holders)
	keep := *r.Instance
	token := in.Metadata[CreateTokenKey]
	if !c.creates.claim(keep.ID) {
		return res, fmt.Errorf("clouddc: instance %s carries this create's token but another create of this provider already returned it", keep.ID)
	}
	for _, dup := range r.Others {
		if c.deleteDuplicate(ctx, dup, keep.ID) {
			res.Duplicates.Deleted = append(res.Duplicates.Deleted, dup)
		} else {
			res.Duplicates.Failed = append(res.Duplicates.Failed, dup)
		}
	}
	if !r.Matches {
		e := uncertain(in, token, []Instance{keep}, createErr, nil, time.Time{},
			"the instance carrying its create token does not match what was sent, so it was kept but not adopted")
		e.Duplicates = res.Duplicates.Deleted
		return res, e
	}
	c.logger.InfoContext(ctx, "adopted the instance that the create with an unknown outcome had made (it carries the create token)",
		"instance_id", keep.ID, "name", keep.Name, "state", string(keep.State))
	res.ID, res.Adopted, res.SettleBy = keep.ID, true, time.Now().Add(c.creates.settings().Window)
	return res, nil
}

// lookAfterInterrupt looks, on a fresh context bounded by
// CreateLookup.Interrupted, for the instance of a create whose caller gave
// up after the request may have been written, so that its ID can still be
// recorded. Otherwise the *CreateUncertainError says until when it may
// still appear.
func (c *Client) lookAfterInterrupt(ctx context.Context, res CreateResult, in CreateInstanceInput, createErr error, unknownSince time.Time,
	s CreateLookup,
) (CreateResult, error) {
	fresh, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Interrupted)
	defer cancel()
	token := in.Metadata[CreateTokenKey]
	c.logger.WarnContext(ctx, "the create was interrupted after its request may have been sent; looking briefly for the instance it may have made",
		"name", in.Name, "limit", s.Interrupted.String())
	var lookErr error
	for delay := s.FirstDelay; ; delay = min(2*delay, s.MaxDelay) {
		holders, err := c.tokenHolders(fresh, token, time.Now())
		if err == nil && len(holders) > 0 {
			// The caller's context is over: the caller records the ID and
			// fails its own wait, so the instance is kept, not orphaned.
			return c.adopt(fresh, res, in, holders, createErr)
		}
		if err != nil && fresh.Err() == nil {
			lookErr = err
		}
		if sleep(fresh, delay) != nil {
			deadline := unknownSince.Add(s.Window)
			return res, uncertain(in, token, nil, createErr, lookErr, deadline, fmt.Sprintf(
				"it was interrupted after its request may have been sent, and no instance carrying its create token was listed within %s; "+
					"one may still appear until %s", s.Interrupted, deadline.UTC().Format(time.RFC3339)))
		}
	}
}

// matchesCreate reports whether an instance is what in asked for: every
// field that was sent, with the addresses that were fixed and the server
// that was requested.
func matchesCreate(in CreateInstanceInput, inst Instance) bool {
	if inst.Name != in.Name || inst.Image.ID != in.ImageID || inst.VPCID != in.VPCID || inst.Description != in.Description {
		return false
	}
	if in.Placement != nil && in.Placement.ServerID != "" && inst.ServerID != in.Placement.ServerID {
		return false
	}
	if len(inst.NetworkInterfaces) != len(in.NetworkInterfaces) {
		return false
	}
	for i, want := range in.NetworkInterfaces {
		got := inst.NetworkInterfaces[i]
		if got.SubnetID != want.SubnetID || (want.IPv4Address != "" && got.IPv4Address != want.IPv4Address) {
			return false
		}
	}
	return maps.Equal(inst.Metadata, in.Metadata)
}

// Duplicates are the other instances found carrying a create's token: made
// by an earlier attempt of the create that landed after all, or by a
// gateway that replayed it.
type Duplicates struct {
	// Deleted: their deletion was started now (not waited for).
	Deleted []string
	// Deleting: they were already being deleted (shutting-down).
	Deleting []string
	// Failed: the API refused to delete them; they must be deleted again.
	Failed []string
	// Unsure: the listing failed, so there may be duplicates that were
	// not seen.
	Unsure bool
	// ListedAt is when the listing they come from started (zero when
	// there was none): nothing that lands later is among them.
	ListedAt time.Time
}

// Settled reports whether no other instance carrying the token is left:
// a complete listing showed none but keep, not even one being deleted
// (whose deletion may still end in error).
func (d Duplicates) Settled() bool {
	return !d.Unsure && len(d.Deleted)+len(d.Deleting)+len(d.Failed) == 0
}

// Add returns d with what more found besides (a later look at the same
// token): the IDs of both, unsure if either was, listed when more was.
func (d Duplicates) Add(more Duplicates) Duplicates {
	return Duplicates{
		Deleted:  append(slices.Clone(d.Deleted), more.Deleted...),
		Deleting: append(slices.Clone(d.Deleting), more.Deleting...),
		Failed:   append(slices.Clone(d.Failed), more.Failed...),
		Unsure:   d.Unsure || more.Unsure,
		ListedAt: latest(d.ListedAt, more.ListedAt),
	}
}

// Waiting are the duplicates whose deletion is under way.
func (d Duplicates) Waiting() []string {
	return append(slices.Clone(d.Deleted), d.Deleting...)
}

// deleteDuplicates starts the deletion of every live instance other than
// keep that carries the token, and reports those being deleted already.
// The listing starts no earlier than notBefore.
func (c *Client) deleteDuplicates(ctx context.Context, token, keep string, notBefore time.Time) Duplicates {
	var d Duplicates
	all, at, err := c.projects.sinceStarted(ctx, notBefore)
	if err != nil {
		c.logger.WarnContext(ctx, "could not check for duplicates of a create", "instance_id", keep, "error", err.Error())
		d.Unsure = true
		return d
	}
	d.ListedAt = at
	for _, inst := range all {
		switch {
		case inst.ID == keep || inst.Metadata[CreateTokenKey] != token || inst.State == StateTerminated || c.creates.isClaimed(inst.ID):
		case inst.State == StateShuttingDown:
			d.Deleting = append(d.Deleting, inst.ID)
		case c.deleteDuplicate(ctx, inst.ID, keep):
			d.Deleted = append(d.Deleted, inst.ID)
		default:
			d.Failed = append(d.Failed, inst.ID)
		}
	}
	return d
}

// deleteDuplicate starts the deletion of dup, an instance that carries the
// token of the create that returned keep, and reports whether it did.
func (c *Client) deleteDuplicate(ctx context.Context, dup, keep string) bool {
	if err := c.DeleteInstance(ctx, dup); err != nil && !errors.Is(err, ErrNotFound) {
		c.logger.ErrorContext(ctx, "a create made a duplicate instance, and deleting it failed: delete it by hand",
			"duplicate_id", dup, "instance_id", keep, "error", err.Error())
		return false
	}
	c.logger.WarnContext(ctx, "a create made a duplicate instance (it carries the same create token); its deletion was started (not waited for)",
		"duplicate_id", dup, "instance_id", keep)
	return true
}

// RemoveTokenDuplicates starts the deletion of every live instance other
// than keep that carries token, the create token of keep's create: made by
// an attempt of that create that landed late, or by a gateway that
// replayed it. It costs one complete listing of the project (shared with
// the other lookups of the client). Its Duplicates say what it started,
// what it could not delete, and whether any other holder of the token is
// still there.
func (c *Client) RemoveTokenDuplicates(ctx context.Context, token, keep string) Duplicates {
	if token == "" || keep == "" {
		return Duplicates{}
	}
	// The refresh of many resources shares one listing: one a few seconds
	// old finds what a new one would, but for what landed since, which
	// the next look finds.
	return c.deleteDuplicates(ctx, token, keep, time.Now().Add(-duplicateListingAge))
}

// SettleTokenDuplicates is RemoveTokenDuplicates for the last look, once
// every attempt of the create has surely landed: it waits until until if
// need be, and takes only a listing that started after it. With ctx done
// first, its Duplicates are Unsure.
func (c *Client) SettleTokenDuplicates(ctx context.Context, token, keep string, until time.Time) Duplicates {
	if token == "" || keep == "" {
		return Duplicates{}
	}
	if sleep(ctx, time.Until(until)) != nil {
		return Duplicates{Unsure: true}
	}
	return c.deleteDuplicates(ctx, token, keep, until.Add(time.Millisecond))
}

// duplicateListingAge is how old a listing RemoveTokenDuplicates takes.
const duplicateListingAge = 5 * time.Second

// RemoveCreateDuplicates looks again, after a create that was resent, for
// instances that carry its token besides the one it returned (an earlier
// attempt that landed later than the API promises) and starts their
// deletion. A create that was not resent cannot have duplicates, and costs
// no call.
func (c *Client) RemoveCreateDuplicates(ctx context.Context, res CreateResult) Duplicates {
	if !res.Resent || res.ID == "" || res.Token == "" {
		return Duplicates{}
	}
	return c.deleteDuplicates(ctx, res.Token, res.ID, time.Now())
}

// PendingCreate is a create whose outcome was unknown when its caller gave
// up (a *CreateUncertainError without an InstanceID): what it sent, and
// until when an instance it made may still appear.
type PendingCreate struct {
	// Input is what the create sent (its Password is not needed), with the
	// token under CreateTokenKey in its Metadata or given as Token.
	Input CreateInstanceInput
	Token string
	// Deadline is the CreateUncertainError's Deadline.
	Deadline time.Time
}

// CreateResolution is what ResolveCreate found.
type CreateResolution struct {
	// Instance is the instance the create made: the oldest live one that
	// carries its token, preferring one that matches what was sent. Nil
	// when there is none.
	Instance *Instance
	// Matches reports whether Instance matches every field that was sent.
	Matches bool
	// Others are the other live instances that carry the token (made by a
	// create that was sent more than once). ResolveCreate leaves them.
	Others []string
	// NotMade: two complete listings taken after Deadline show no live
	// instance carrying the token, so the create made nothing.
	NotMade bool
}

// ResolveCreate settles a create whose outcome was unknown, in a later
// run: it lists the project (complete listings, shared with other
// lookups) until an instance carrying the token shows, or until a listing
// taken after the deadline shows none. It waits for the deadline when it
// has not passed; it returns an error when no complete listing could be
// read (the create stays unsettled) or ctx ends.
func (c *Client) ResolveCreate(ctx context.Context, p PendingCreate) (CreateResolution, error) {
	if p.Token == "" {
		p.Token = p.Input.Metadata[CreateTokenKey]
	}
	if p.Token == "" {
		return CreateResolution{}, errors.New("clouddc: a pending create needs its token")
	}
	in := p.Input
	if in.Metadata[CreateTokenKey] != p.Token {
		md := make(map[string]string, len(in.Metadata)+1)
		maps.Copy(md, in.Metadata)
		md[CreateTokenKey] = p.Token
		in.Metadata = md
	}
	s := c.creates.settings()
	giveUp := latest(p.Deadline, time.Now()).Add(s.Window / 2)
	var lastErr error
	// emptyAfter counts the complete listings that started after the
	// deadline and showed no holder: it takes two, so that one listing
	// that is complete by every check but wrong (contract item 3) cannot
	// make a provisional object go while its instance exists.
	emptyAfter := 0
	for delay := s.FirstDelay; ; delay = min(2*delay, s.MaxDelay) {
		asked := time.Now()
		all, err := c.projects.since(ctx, asked)
		switch {
		case err == nil:
			var holders []Instance
			for _, inst := range all {
				if inst.Metadata[CreateTokenKey] == p.Token && inst.State != StateTerminated && inst.State != StateShuttingDown {
					holders = append(holders, inst)
				}
			}
			if len(holders) > 0 {
				return resolution(in, holders), nil
			}
			if !asked.Before(p.Deadline) {
				if emptyAfter++; emptyAfter >= 2 {
					return CreateResolution{NotMade: true}, nil
				}
				delay = s.FirstDelay / 2 // the next listing soon: doubled below
			}
		case ctx.Err() != nil:
			return CreateResolution{}, err
		default:
			lastErr = err
			c.logger.WarnContext(ctx, "looking for the instance of an earlier create failed; trying again", "name", in.Name, "error", err.Error())
			if asked.After(giveUp) {
				return CreateResolution{}, lastErr
			}
		}
		wait := delay
		if left := time.Until(p.Deadline); left > 0 && wait > left {
			wait = left
		}
		if err := sleep(ctx, wait); err != nil {
			return CreateResolution{}, err
		}
	}
}

// resolution picks the instance of a create from the live instances that
// carry its token, as adopt does.
func resolution(in CreateInstanceInput, holders []Instance) CreateResolution {
	slices.SortFunc(holders, func(a, b Instance) int {
		am, bm := matchesCreate(in, a), matchesCreate(in, b)
		if am != bm {
			if am {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	r := CreateResolution{Instance: &holders[0], Matches: matchesCreate(in, holders[0])}
	for _, o := range holders[1:] {
		r.Others = append(r.Others, o.ID)
	}
	return r
}

// latest is the latest of the times.
func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
