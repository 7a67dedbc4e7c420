package clouddc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

// The watcher serves every wait of one client. Instead of each wait
// polling its own instance, one loop sweeps the instances that waits are
// interested in with ListInstances filtered by up to MaxFilterIDs IDs, and
// hands each wait its own instance's status. A Terraform run that deletes
// fifty instances at once thus costs one call per tick, not fifty.
//
// The loop sleeps until the earliest time any wait wants a fresh status.
// A sweep then includes every wait (up to the filter limit), since the
// extra IDs cost nothing: a wait that was not due yet learns its state
// early. The calls go through the client, so they respect its rate
// limiter, its retries and Retry-After.

// dueWindow lets waits that are due a little later (a tenth of the dense
// interval) join a sweep rather than cause another one soon after.
func (s PollSchedule) dueWindow() time.Duration { return s.MinInterval / 10 }

type watcher struct {
	c *Client

	mu      sync.Mutex
	subs    map[*sub]struct{}
	running bool
	wake    chan struct{}
	learned map[string]*learner
	// cancelSweep stops the sweep in flight; it is called when the last
	// wait goes away, so that nothing keeps working for nobody.
	cancelSweep context.CancelFunc
}

// sub is one wait.
type sub struct {
	id    string
	spec  waitSpec
	ctx   context.Context // carries the caller's logger
	start time.Time
	next  time.Time
	// early: next is an early look, taken before this wait can be
	// expected to end (see nextPollLocked); it may wait for a sweep that
	// others need anyway.
	early    bool
	last     *InstanceStatus
	lastPoll time.Time // last time a status was read
	// shown: the operation of a wait with a prior has shown (waitSpec.shown).
	shown bool
	// dups: the other live instances seen carrying the token of a create
	// wait (waitSpec.token), in Deleted (not deleted yet), and in ListedAt
	// when the last whole-project listing searched for them started.
	dups    Duplicates
	lastErr error
	result  chan subResult
}

type subResult struct {
	st  *InstanceStatus
	err error
}

func newWatcher(c *Client) *watcher {
	return &watcher{c: c, subs: map[*sub]struct{}{}, wake: make(chan struct{}, 1), learned: map[string]*learner{}}
}

// await registers a wait and blocks until it ends or ctx does. Cancelling
// one wait leaves the others running.
func (w *watcher) await(ctx context.Context, id string, spec waitSpec) (*InstanceStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, &WaitError{InstanceID: id, Goal: spec.goal, Err: err}
	}
	s := &sub{id: id, spec: spec, ctx: ctx, start: time.Now(), result: make(chan subResult, 1)}
	w.mu.Lock()
	s.next = w.firstPollLocked(s)
	w.subs[s] = struct{}{}
	if !w.running {
		w.running = true
		go w.loop(w.c.backgroundCtx(ctx))
	}
	w.mu.Unlock()
	w.kick()

	defer func() {
		if spec.dups != nil {
			w.mu.Lock()
			*spec.dups = Duplicates{Deleted: slices.Clone(s.dups.Deleted), ListedAt: s.dups.ListedAt}
			w.mu.Unlock()
		}
	}()
	select {
	case r := <-s.result:
		return r.st, r.err
	case <-ctx.Done():
	}
	w.mu.Lock()
	delete(w.subs, s)
	if len(w.subs) == 0 && w.cancelSweep != nil {
		w.cancelSweep()
	}
	last, lastErr := s.last, s.lastErr
	w.mu.Unlock()
	select {
	case r := <-s.result: // ended just as ctx did: the result wins
		return r.st, r.err
	default:
	}
	e := &WaitError{InstanceID: id, Goal: spec.goal, Err: ctx.Err(), LastPollError: lastErr}
	if last != nil {
		e.LastState, e.LastOperationState = last.State, last.OperationState
	}
	return last, e
}

func (w *watcher) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// loop runs while there are waits. logCtx is the client's background
// context (WithBackgroundContext), so that the sweep's logs name no one
// wait's instance; without one, the context of the wait that started the
// loop, without its cancellation: one wait ending must not stop the
// sweeps of the others.
func (w *watcher) loop(logCtx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		w.mu.Lock()
		if len(w.subs) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		at := w.nextSweepLocked()
		w.mu.Unlock()
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-w.wake:
				continue // the set of waits changed: recompute
			}
		}
		w.sweep(logCtx)
	}
}

// nextSweepLocked is when the loop sweeps next: when the first wait that
// may be ending wants its status. Every sweep reads every wait's instance
// (up to the filter limit), and each wait then looks again an interval
// later, so the waits that may be ending share one sweep an interval. An
// early look (a wait that cannot be expected to end yet, or a new one)
// joins the next such sweep when it comes within half an interval, rather
// than cause a sweep of its own; a wait that may be ending is never held
// back for another, which would make it noticed later.
func (w *watcher) nextSweepLocked() time.Time {
	var firm, early time.Time
	for s := range w.subs {
		switch {
		case s.early && (early.IsZero() || s.next.Before(early)):
			early = s.next
		case !s.early && (firm.IsZero() || s.next.Before(firm)):
			firm = s.next
		}
	}
	switch {
	case firm.IsZero():
		return early
	case early.IsZero() || !early.Before(firm.Add(-w.c.poll.Interval/2)):
		return firm
	}
	return early
}

// sweep reads the status of the due waits' instances, and of as many
// others as fit in the same calls, and delivers them.
func (w *watcher) sweep(logCtx context.Context) {
	w.mu.Lock()
	now := time.Now()
	var due, rest []*sub
	for s := range w.subs {
		if !s.next.After(now.Add(w.c.poll.dueWindow())) {
			due = append(due, s)
		} else {
			rest = append(rest, s)
		}
	}
	if len(due) == 0 {
		w.mu.Unlock()
		return
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].next.Before(rest[j].next) })
	seen := map[string]bool{}
	ids := uniqueIDs(due, nil, seen)
	capacity := (len(ids) + MaxFilterIDs - 1) / MaxFilterIDs * MaxFilterIDs
	ids = uniqueIDs(rest, ids, seen)
	ids = ids[:min(len(ids), capacity)]
	// A create wait also watches for other instances carrying its token (a
	// gateway that replayed the create): only a whole-project listing shows
	// them, so one is used when it costs no more calls than the ID filter,
	// in a project that fits in one page.
	whole := false
	if w.c.projectSize.Load() <= MaxPageSize { // -1: not known yet
		for s := range w.subs {
			whole = whole || s.spec.token != ""
		}
	}
	ctx, cancel := context.WithTimeout(logCtx, 2*time.Minute)
	defer cancel()
	w.cancelSweep = cancel
	w.mu.Unlock()

	if whole {
		started := time.Now()
		all, err := w.c.listProject(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil && len(all) <= MaxPageSize {
			w.sweepWhole(ctx, ids, all, started)
			return
		}
		// The project turned out large, or the listing failed: by ID.
	}
	for batch := range slices.Chunk(ids, MaxFilterIDs) {
		found, err := w.c.lookUp(ctx, batch)
		if ctx.Err() != nil {
			return // every wait went away
		}
		var gone map[string]Gone
		var goneErr map[string]error
		if err == nil {
			gone, goneErr = w.confirmAbsent(ctx, batch, found)
			if ctx.Err() != nil {
				return
			}
		}
		w.deliver(batch, found, gone, goneErr, err)
	}
}

// sweepWhole delivers the statuses of ids from a complete listing of the
// whole project that started at started, and tells each create wait of the
// other live instances that carry its token.
func (w *watcher) sweepWhole(ctx context.Context, ids []string, all []Instance, started time.Time) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	found := map[string]Instance{}
	byToken := map[string][]string{}
	for _, inst := range all {
		if want[inst.ID] {
			found[inst.ID] = inst
		}
		if tok := inst.Metadata[CreateTokenKey]; tok != "" && inst.State != StateTerminated && inst.State != StateShuttingDown {
			byToken[tok] = append(byToken[tok], inst.ID)
		}
	}
	gone, goneErr := w.confirmAbsent(ctx, ids, found)
	if ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	for s := range w.subs {
		if s.spec.token == "" || !want[s.id] {
			continue
		}
		for _, id := range byToken[s.spec.token] {
			if id != s.id {
				s.dups.Deleted = appendNew(s.dups.Deleted, id)
			}
		}
		s.dups.ListedAt = started
	}
	w.mu.Unlock()
	w.deliver(ids, found, gone, goneErr, nil)
}

// appendNew appends id to ids unless it is there already.
func appendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

// confirmAbsent asks the API about each instance of batch that a complete
// listing did not show (absence.go's rule), except those whose waits all
// still give a new instance time to be listed.
func (w *watcher) confirmAbsent(ctx context.Context, batch []string, found map[string]Instance) (map[string]Gone, map[string]error) {
	gone, errs := map[string]Gone{}, map[string]error{}
	for _, id := range batch {
		if _, ok := found[id]; ok || !w.mustConfirm(id) {
			continue
		}
		g, err := w.c.confirmGone(ctx, id)
		if err != nil {
			errs[id] = err
			continue
		}
		gone[id] = g
	}
	return gone, errs
}

// mustConfirm reports whether some wait for id would act on its absence
// now: a deletion, or a wait past its grace for a new instance.
func (w *watcher) mustConfirm(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for s := range w.subs {
		if s.id == id && (s.spec.notFoundIsTarget || s.last != nil || now.Sub(s.start) >= s.spec.notListedYet) {
			return true
		}
	}
	return false
}

// pollEndsWait reports whether a failed poll ends a wait. Only what another
// poll cannot change does: credentials refused, a request refused as
// invalid, a redirect, a host name that does not resolve, a TLS failure.
// Anything else (a 5xx, a gateway's 404, a listing that is not complete,
// an undecodable or oversized answer, a lost connection) says nothing about
// the instance, so the wait polls again until its timeout; its WaitError
// then quotes the last of these failures.
func pollEndsWait(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			return true
		}
		return false
	}
	var redirect *RedirectError
	return errors.As(err, &redirect) || IsPermanentNetworkError(err)
}

// uniqueIDs appends the IDs of subs that are not in seen yet, in order.
func uniqueIDs(subs []*sub, ids []string, seen map[string]bool) []string {
	for _, s := range subs {
		if !seen[s.id] {
			seen[s.id] = true
			ids = append(ids, s.id)
		}
	}
	return ids
}

// deliver hands the result of one sweep listing to the waits of its IDs:
// the instances listed, what the API said of those it did not list (gone,
// or an error asking it), or the listing's error, which reaches only
// those waits.
func (w *watcher) deliver(batch []string, found map[string]Instance, gone map[string]Gone, goneErr map[string]error, err error) {
	inBatch := make(map[string]bool, len(batch))
	for _, id := range batch {
		inBatch[id] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for s := range w.subs {
		if !inBatch[s.id] {
			continue
		}
		if inst, ok := found[s.id]; ok && err == nil {
			s.lastErr = nil
			w.observeLocked(s, &inst, now)
			continue
		}
		pollErr := err
		if pollErr == nil {
			pollErr = goneErr[s.id]
		}
		if pollErr != nil {
			if !pollEndsWait(pollErr) {
				// A blip does not end a wait: try again on the schedule.
				s.lastErr = pollErr
				s.next = now.Add(w.c.poll.steady(now.Sub(s.start)))
				w.c.logger.WarnContext(s.ctx, "polling the instance failed; will poll again", "instance_id", s.id, "error", pollErr.Error())
				continue
			}
			w.endLocked(s, s.last, pollErr)
			continue
		}
		g, confirmed := gone[s.id]
		switch {
		case !confirmed && s.last == nil && now.Sub(s.start) < s.spec.notListedYet:
			// A complete listing does not show the new instance yet; the
			// API may list it a moment after it answered the create.
			s.lastErr = &APIError{StatusCode: http.StatusNotFound, Code: CodeInstanceNotFound,
				Message: "instance " + s.id + " is not listed yet", Method: http.MethodGet, Path: w.c.projectPath("instances")}
			s.next = now.Add(w.c.poll.steady(now.Sub(s.start)))
			w.c.logger.DebugContext(s.ctx, "the new instance is not listed yet; will poll again", "instance_id", s.id)
		case !confirmed:
			// Confirmed by a sweep that started before this wait passed
			// its grace: look again.
			s.next = now.Add(w.c.poll.steady(now.Sub(s.start)))
		case s.spec.notFoundIsTarget:
			w.c.logger.DebugContext(s.ctx, "instance gone (the API confirms it); its deletion is over", "instance_id", s.id)
			w.learnLocked(s, now)
			w.endLocked(s, &InstanceStatus{State: StateTerminated}, nil)
		default:
			msg := "instance " + s.id + " no longer exists (it is not listed, and the API answers 404 iMetal.0200 for it)"
			if g == GoneTerminated {
				msg = "instance " + s.id + " is terminated"
			}
			w.endLocked(s, s.last, &APIError{StatusCode: http.StatusNotFound, Code: CodeInstanceNotFound,
				Message: msg, Method: http.MethodGet, Path: w.c.projectPath("instances", s.id, "status")})
		}
	}
}

// observeLocked judges one listed instance against the wait's goal.
func (w *watcher) observeLocked(s *sub, inst *Instance, now time.Time) {
	st := &InstanceStatus{State: inst.State, OperationState: inst.OperationState, Error: inst.Error}
	if s.spec.prior != nil && !s.shown {
		s.shown = s.spec.shown(inst)
	}
	if s.spec.prior != nil && !s.shown {
		// The operation this wait is for has not shown yet: the API still
		// reports the instance as it was before the request. Judging it
		// would end the wait on the previous operation's result.
		if s.last == nil {
			w.c.logger.DebugContext(s.ctx, "the operation has not shown yet; will poll again", "instance_id", s.id,
				"operation_state", st.OperationState)
		}
		s.last, s.lastPoll = st, now
		s.next = now.Add(w.c.poll.steady(now.Sub(s.start)))
		return
	}
	if s.last == nil || s.last.State != st.State || s.last.OperationState != st.OperationState {
		w.c.logger.DebugContext(s.ctx, "instance state", "instance_id", s.id, "state", string(st.State),
			"operation_state", st.OperationState, "elapsed_ms", now.Sub(s.start).Milliseconds())
	}
	observe(s.ctx, Observation{ID: s.id, Goal: s.spec.goal, State: string(st.State), OperationState: st.OperationState, Elapsed: now.Sub(s.start)})
	spec := s.spec
	switch {
	case slices.Contains(spec.target, st.State) && (spec.done == nil || spec.done(st)):
		w.learnLocked(s, now)
		w.endLocked(s, st, nil)
		return
	case st.State == StateError && spec.failed(st):
		w.endLocked(s, st, &InstanceFailedError{InstanceID: s.id, Goal: spec.goal, State: st.State, OperationState: st.OperationState, Detail: st.Error})
		return
	case st.State == StateError || slices.Contains(spec.pending, st.State) || slices.Contains(spec.target, st.State):
		// not there yet
	default:
		w.endLocked(s, st, &UnexpectedStateError{InstanceID: s.id, Goal: spec.goal, State: st.State, Expected: append(slices.Clone(spec.pending), spec.target...)})
		return
	}
	s.last, s.lastPoll = st, now
	s.next = w.nextPollLocked(s, now)
}

func (w *watcher) endLocked(s *sub, st *InstanceStatus, err error) {
	delete(w.subs, s)
	s.result <- subResult{st: st, err: err}
}

// The schedule. Installs and wipes take minutes and vary from server to
// server, so a wait cannot know when its operation ends; it can only learn
// from the operations of the same kind that ended before it. The watcher
// keeps how long the recent ones took (learner). A wait then looks:
//
//   - while nothing is learned: after Delay, then every Interval for the
//     first minute, then less often (PollSchedule.steady);
//   - before three quarters of the quickest recent duration: early looks,
//     at that time, and every MaxInterval in case this one is quicker
//     still (a failure that comes at once, say);
//   - from then until twice the longest recent duration: every Interval,
//     which bounds how late an end is noticed to about an interval;
//   - after that, less often again (steady).
//
// All waits share the sweeps (nextSweepLocked), so while many waits are in
// flight an interval's sweep costs one call for all of them.

// firstPollLocked is when a new wait first wants a status.
func (w *watcher) firstPollLocked(s *sub) time.Time {
	sched := w.c.poll
	s.early = true
	if lo, _, ok := w.learned[s.spec.goal].window(); ok && lo > sched.Delay {
		return minTime(s.start.Add(lo), s.start.Add(sched.MaxInterval))
	}
	return s.start.Add(sched.Delay)
}

// nextPollLocked is when a wait that is not done wants its next status.
func (w *watcher) nextPollLocked(s *sub, now time.Time) time.Time {
	sched := w.c.poll
	elapsed := now.Sub(s.start)
	lo, hi, ok := w.learned[s.spec.goal].window()
	s.early = false
	switch {
	case !ok || elapsed > hi:
		return now.Add(sched.steady(elapsed))
	case elapsed+sched.Interval < lo:
		s.early = true
		return minTime(s.start.Add(lo), now.Add(sched.MaxInterval))
	}
	return now.Add(w.denseIntervalLocked())
}

// denseIntervalLocked is how often waits that may be ending look: every
// Interval, or more often while many waits share the sweeps, as long as
// the sweeps cost no more calls than looking at each instance every
// MaxInterval would (the HuaweiCloud provider's ten seconds), and never
// more often than every MinInterval.
func (w *watcher) denseIntervalLocked() time.Duration {
	sched := w.c.poll
	n := len(w.subs)
	calls := (n + MaxFilterIDs - 1) / MaxFilterIDs
	if n == 0 {
		return sched.Interval
	}
	return min(max(sched.MaxInterval*time.Duration(calls)/time.Duration(n), sched.MinInterval), sched.Interval)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// learnLocked records how long a finished wait took. It was seen done now;
// when it was seen not done at its last poll, it finished in between, and
// the middle of that gap is the best guess. Seen done at its first look,
// it took at most until now, which can only make the next waits look
// earlier, never later.
func (w *watcher) learnLocked(s *sub, now time.Time) {
	l := w.learned[s.spec.goal]
	if l == nil {
		l = &learner{}
		w.learned[s.spec.goal] = l
	}
	took := now.Sub(s.start)
	if !s.lastPoll.IsZero() {
		took -= now.Sub(s.lastPoll) / 2
	}
	l.add(took)
}

// learner remembers how long the recent waits of one kind took until they
// were seen done.
type learner struct {
	recent []time.Duration
}

const learnWindow = 32

func (l *learner) add(d time.Duration) {
	l.recent = append(l.recent, d)
	if len(l.recent) > learnWindow {
		l.recent = l.recent[len(l.recent)-learnWindow:]
	}
}

// window is when the next wait of the kind may end: from three quarters
// of the quickest recent duration to twice the longest.
func (l *learner) window() (lo, hi time.Duration, ok bool) {
	if l == nil || len(l.recent) == 0 {
		return 0, 0, false
	}
	return slices.Min(l.recent) * 3 / 4, slices.Max(l.recent) * 2, true
}
