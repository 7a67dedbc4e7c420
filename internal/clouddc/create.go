package clouddc

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// CreateInstance has no idempotency token, and the API may carry a create
// out although its answer was a 5xx, a timeout or a lost connection, up to
// a minute later. CreateInstanceSafely therefore makes its own certainty:
//
//   - Every create carries a create token: a random value under the
//     metadata key CreateTokenKey, made once per CreateInstanceSafely call
//     and sent again, unchanged, with every resend. Only this call knows
//     it, so an instance that carries it was made by this call and no
//     other: not by a sibling create with the same name, not by someone
//     else.
//   - When the outcome of a create is unknown, the client looks for the
//     token over CreateLookup.Window (a minute) before it sends anything
//     again, and resends only when complete listings over the whole
//     window show no instance carrying it. It adopts only an instance that
//     carries the token and matches every field that was sent.
//   - An instance ID is claimed once per Client: two creates of one
//     process never return the same instance.
//   - When it still cannot tell (the listings keep failing, the context
//     ended after the request was written, a 2xx answer without a usable
//     ID whose instance never shows), it returns a *CreateUncertainError
//     that names the token and what it found, instead of guessing.

// CreateTokenKey is the metadata key that carries a create's token. It is
// reserved: a CreateInstanceInput must not set it, and it takes one of the
// MaxMetadataPairs pairs the API allows, so callers have MaxUserMetadata.
const CreateTokenKey = "terraform-provider-clouddc:create-token" //nolint:gosec // G101: a metadata key, not a credential

// MaxMetadataPairs is the most metadata pairs the API accepts.
const MaxMetadataPairs = 10

// MaxUserMetadata is how many metadata pairs CreateInstanceSafely leaves to
// its caller: one pair carries the create token.
const MaxUserMetadata = MaxMetadataPairs - 1

// CreateLookup says how CreateInstanceSafely looks for the instance of a
// create whose outcome is unknown.
type CreateLookup struct {
	// Window is how long after an unknown outcome the instance may still
	// appear; nothing is resent before it has passed (default a minute).
	Window time.Duration
	// FirstDelay and MaxDelay space the listings within the window: the
	// first comes FirstDelay after the failure, then each gap doubles up
	// to MaxDelay (defaults half a second and ten seconds).
	FirstDelay, MaxDelay time.Duration
	// Interrupted bounds the lookup made after the caller's context ended
	// (Ctrl-C, a create timeout) once the request may have been written:
	// it runs on a fresh context for at most this long (default 10 s).
	Interrupted time.Duration
}

// DefaultCreateLookup is the lookup CreateInstanceSafely uses unless
// WithCreateLookup changes it.
func DefaultCreateLookup() CreateLookup {
	return CreateLookup{Window: time.Minute, FirstDelay: 500 * time.Millisecond, MaxDelay: 10 * time.Second, Interrupted: 10 * time.Second}
}

// WithCreateLookup replaces DefaultCreateLookup. Tests use it to look for
// seconds instead of a minute.
func WithCreateLookup(l CreateLookup) Option {
	return func(c *Client) error {
		if l.Window <= 0 || l.FirstDelay <= 0 || l.MaxDelay < l.FirstDelay || l.Interrupted <= 0 {
			return errors.New("the create lookup needs a positive window, first delay and interrupted bound, and max delay >= first delay")
		}
		c.creates.lookup = &l
		return nil
	}
}

// createState is what a Client keeps about its creates. Its zero value is
// ready to use.
type createState struct {
	lookup *CreateLookup
	mu     sync.Mutex
	// claimed holds every instance ID a create of this client returned.
	claimed map[string]bool
}

func (s *createState) settings() CreateLookup {
	if s.lookup != nil {
		return *s.lookup
	}
	return DefaultCreateLookup()
}

// claim records id as returned by a create; false if it already was.
func (s *createState) claim(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed[id] {
		return false
	}
	if s.claimed == nil {
		s.claimed = map[string]bool{}
	}
	s.claimed[id] = true
	return true
}

func (s *createState) isClaimed(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claimed[id]
}

// CreateResult says how CreateInstanceSafely got its instance.
type CreateResult struct {
	// ID is the new instance's ID.
	ID string
	// Token is the create token the instance carries under CreateTokenKey.
	Token string
	// Adopted: a create's outcome was unknown, and the instance it had made
	// was found by its token and adopted instead of creating another.
	Adopted bool
	// Attempts is how many CreateInstance requests were sent.
	Attempts int
	// Resent: the create was sent again after an earlier attempt was shown
	// to have made nothing. RemoveCreateDuplicates can check later that
	// the earlier attempt did not land after all.
	Resent bool
	// Duplicates are instances that carried the token besides ID (made by
	// an earlier attempt that landed late) and whose deletion was started.
	Duplicates []string
}

// CreateUncertainError is returned when CreateInstanceSafely cannot tell
// whether its create made an instance, or cannot prove that the instance it
// found is the one it asked for. An instance that carries Token under
// CreateTokenKey was made by this create.
type CreateUncertainError struct {
	// Name is the name of the instance that was asked for.
	Name string
	// Token is the create token the request carried.
	Token string
	// InstanceID is set when exactly one instance carries the token: it
	// was made by this create, but it could not be adopted (it does not
	// match what was sent, or the caller's context had ended).
	InstanceID string
	// Candidates are all the live instances that carry the token.
	Candidates []string
	// Reason says, in a sentence, why the outcome is uncertain.
	Reason string
	// Err is the create's own error; Lookup the last lookup's, if any.
	Err    error
	Lookup error
}

func (e *CreateUncertainError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "creating instance %q: %s", e.Name, e.Reason)
	if len(e.Candidates) > 0 {
		fmt.Fprintf(&b, "; instances carrying its create token: %s", strings.Join(e.Candidates, ", "))
	} else {
		fmt.Fprintf(&b, "; an instance it made would carry metadata %s = %s", CreateTokenKey, e.Token)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " (create: %v)", e.Err)
	}
	if e.Lookup != nil {
		fmt.Fprintf(&b, " (lookup: %v)", e.Lookup)
	}
	return b.String()
}

// Unwrap exposes the create's and the lookup's errors to errors.Is/As.
func (e *CreateUncertainError) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Err, e.Lookup} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// CreateNotMadeError is returned when a create whose outcome was unknown
// was shown to have made nothing (no instance carrying its token appeared
// within the lookup window) and no retries were left to send it again.
// Nothing exists: running it again is safe.
type CreateNotMadeError struct {
	// Err is the create's error; Unwrap gives the API's answer under it.
	Err error
	// Window is how long the client looked; MaxRetries the retry limit.
	Window     time.Duration
	MaxRetries int
}

func (e *CreateNotMadeError) Error() string {
	return fmt.Sprintf("%v; it made no instance (none carrying its create token was listed within %s), and no retries are left (max_retries = %d)",
		e.Err, e.Window, e.MaxRetries)
}

// Unwrap gives the API's answer (not the unknown outcome, which the
// lookup has settled).
func (e *CreateNotMadeError) Unwrap() error {
	var unknown *OutcomeUnknownError
	if errors.As(e.Err, &unknown) {
		return unknown.Err
	}
	return e.Err
}

// errNoInstanceID: a 2xx answer to a create whose body decoded but named
// no instance. The call took effect.
var errNoInstanceID = errors.New("clouddc: CreateInstance answered without an instance_id")

// createOutcome classifies the error of one create request.
type createOutcome int

const (
	notCreated   createOutcome = iota // certainly nothing was made
	maybeCreated                      // a 5xx, a timeout or a lost answer: maybe
	created                           // a 2xx whose ID is unusable: it was made
)

func classifyCreate(ctx context.Context, err error) createOutcome {
	var decodeErr *DecodeError
	if errors.As(err, &decodeErr) || errors.Is(err, errNoInstanceID) {
		return created
	}
	var unknown *OutcomeUnknownError
	if errors.As(err, &unknown) {
		return maybeCreated
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		// The API's own refusal (4xx, a 429 included) made nothing; a 5xx
		// whose retry was cut short by the context may have.
		if apiErr.StatusCode >= 500 {
			return maybeCreated
		}
		return notCreated
	}
	if ctx.Err() != nil {
		// The context ended while the request may have been on the wire.
		return maybeCreated
	}
	// A transport failure before the request was written, once retries
	// are spent (the retry layer resends those), or an encoding error.
	return notCreated
}

// CreateInstanceSafely creates an instance and returns it, never making
// two, and never returning an instance it did not make (see the top of
// this file). in must not set the metadata key CreateTokenKey and may have
// at most MaxUserMetadata pairs.
func (c *Client) CreateInstanceSafely(ctx context.Context, in CreateInstanceInput) (CreateResult, error) {
	if _, ok := in.Metadata[CreateTokenKey]; ok {
		return CreateResult{}, fmt.Errorf("clouddc: metadata key %q is reserved for the create token", CreateTokenKey)
	}
	if len(in.Metadata) > MaxUserMetadata {
		return CreateResult{}, fmt.Errorf("clouddc: metadata has %d pairs; at most %d are allowed, since the create token takes one of the API's %d",
			len(in.Metadata), MaxUserMetadata, MaxMetadataPairs)
	}
	token, err := newCreateToken()
	if err != nil {
		return CreateResult{}, err
	}
	md := make(map[string]string, len(in.Metadata)+1)
	maps.Copy(md, in.Metadata)
	md[CreateTokenKey] = token
	in.Metadata = md

	settings := c.creates.settings()
	res := CreateResult{Token: token}
	uncertainBefore := false // an earlier attempt's outcome was unknown
	for {
		res.Attempts++
		id, err := c.postCreate(ctx, in)
		if err == nil {
			if !c.creates.claim(id) {
				return res, fmt.Errorf("clouddc: CreateInstance answered with instance %s, which another create of this provider already returned", id)
			}
			res.ID = id
			if uncertainBefore {
				res.Duplicates = c.deleteDuplicates(ctx, token, id)
			}
			return res, nil
		}
		outcome := classifyCreate(ctx, err)
		if outcome == notCreated {
			if uncertainBefore {
				// An earlier attempt that landed beyond the window would
				// be orphaned by this failure: one last look for it.
				if found, _, lookErr := c.listByToken(ctx, in, token); lookErr == nil && len(found) > 0 {
					return c.adopt(ctx, res, found, token)
				}
			}
			return res, err
		}
		uncertainBefore = true
		if ctx.Err() != nil {
			return c.lookAfterInterrupt(ctx, res, in, token, err, settings.Interrupted)
		}
		c.logger.WarnContext(ctx, "the outcome of CreateInstance is unknown; looking for the instance it may have made before sending anything again",
			"name", in.Name, "attempt", res.Attempts, "window", settings.Window.String(), "error", err.Error())
		look := c.lookForCreate(ctx, in, token, settings)
		switch {
		case len(look.found) > 0:
			return c.adopt(ctx, res, look.found, token)
		case len(look.mismatched) > 0:
			return res, uncertain(in, token, look.mismatched, err, nil,
				"an instance carrying its create token was found, but it does not match what was sent, so it was not adopted")
		case ctx.Err() != nil:
			return c.lookAfterInterrupt(ctx, res, in, token, err, settings.Interrupted)
		case !look.absent && outcome == created:
			return res, uncertain(in, token, nil, err, look.err, fmt.Sprintf(
				"the API accepted it (HTTP 2xx) without a usable instance ID, and no complete listing of the instances could be read within %s",
				settings.Window))
		case !look.absent:
			return res, uncertain(in, token, nil, err, look.err, fmt.Sprintf(
				"its outcome is unknown and no complete listing of the instances could be read within %s, so it was not sent again", settings.Window))
		case outcome == created:
			return res, uncertain(in, token, nil, err, nil, fmt.Sprintf(
				"the API accepted it (HTTP 2xx) without a usable instance ID, and no instance carrying its create token was listed within %s", settings.Window))
		case res.Attempts > c.retry.MaxRetries:
			return res, &CreateNotMadeError{Err: err, Window: settings.Window, MaxRetries: c.retry.MaxRetries}
		}
		c.logger.InfoContext(ctx, "no instance was made by the create with an unknown outcome; sending it again", "name", in.Name,
			"attempt", res.Attempts)
		res.Resent = true
	}
}

// postCreate sends one CreateInstance (the retry layer resends it only
// when it certainly had no effect). A 2xx answer without a usable ID is
// errNoInstanceID or a *DecodeError.
func (c *Client) postCreate(ctx context.Context, in CreateInstanceInput) (string, error) {
	var out struct {
		InstanceID string `json:"instance_id"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: c.projectPath("instances"), in: in, out: &out}); err != nil {
		return "", err
	}
	if checkInstanceID(out.InstanceID) != nil {
		return "", errNoInstanceID
	}
	return out.InstanceID, nil
}

// adopt claims the first of the instances found (the oldest) and deletes
// the others: all carry the token, so all were made by this create.
func (c *Client) adopt(ctx context.Context, res CreateResult, found []Instance, token string) (CreateResult, error) {
	slices.SortFunc(found, func(a, b Instance) int { return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	keep := found[0]
	if !c.creates.claim(keep.ID) {
		return res, fmt.Errorf("clouddc: instance %s carries this create's token but another create of this provider already returned it", keep.ID)
	}
	c.logger.InfoContext(ctx, "adopted the instance that the create with an unknown outcome had made (it carries the create token)",
		"instance_id", keep.ID, "name", keep.Name, "state", string(keep.State))
	res.ID, res.Adopted = keep.ID, true
	if len(found) > 1 {
		res.Duplicates = c.deleteDuplicates(ctx, token, keep.ID)
	}
	return res, nil
}

// lookAfterInterrupt looks, on a fresh context bounded by limit, for the
// instance of a create whose caller gave up after the request may have
// been written, so that its ID can still be recorded.
func (c *Client) lookAfterInterrupt(ctx context.Context, res CreateResult, in CreateInstanceInput, token string, createErr error, limit time.Duration) (CreateResult, error) {
	fresh, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	c.logger.WarnContext(ctx, "the create was interrupted after its request may have been sent; looking briefly for the instance it may have made",
		"name", in.Name, "limit", limit.String())
	var lookErr error
	for delay := 200 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		found, mismatched, err := c.listByToken(fresh, in, token)
		switch {
		case err == nil && len(found) > 0:
			// The caller's context is over: the caller records the ID and
			// fails its own wait, so the instance is kept, not orphaned.
			return c.adopt(fresh, res, found, token)
		case err == nil && len(mismatched) > 0:
			return res, uncertain(in, token, mismatched, createErr, nil,
				"it was interrupted, and the instance carrying its create token does not match what was sent")
		case err != nil:
			lookErr = err
		}
		if sleep(fresh, delay) != nil {
			return res, uncertain(in, token, nil, createErr, lookErr, fmt.Sprintf(
				"it was interrupted after its request may have been sent, and no instance carrying its create token was listed within %s; one may still appear", limit))
		}
	}
}

// lookResult is what lookForCreate saw.
type lookResult struct {
	found      []Instance // live, carry the token, match what was sent
	mismatched []Instance // live, carry the token, differ from what was sent
	absent     bool       // complete listings until the window's end showed none
	err        error      // the last listing's error
}

// lookForCreate lists the instances, with back-off, until one carries the
// token or the window has passed. It stops early when ctx ends.
func (c *Client) lookForCreate(ctx context.Context, in CreateInstanceInput, token string, s CreateLookup) lookResult {
	deadline := time.Now().Add(s.Window)
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
		listedAt := time.Now()
		found, mismatched, err := c.listByToken(ctx, in, token)
		switch {
		case err == nil && len(found)+len(mismatched) > 0:
			res.found, res.mismatched, res.err = found, mismatched, nil
			return res
		case err == nil && !listedAt.Before(deadline):
			res.absent, res.err = true, nil
			return res
		case err != nil:
			res.err = err
			c.logger.WarnContext(ctx, "looking for the instance of a create with an unknown outcome failed; trying again",
				"name", in.Name, "error", err.Error())
			if listedAt.After(giveUp) {
				return res
			}
		}
		delay = min(2*delay, s.MaxDelay)
	}
}

// listByToken lists every instance that could be the create's (all pages,
// checked complete by listOnce; only the requested server's when one was),
// and returns the live ones that carry the token, split by whether they
// match what was sent. An incomplete listing is an error: absence from it
// proves nothing.
func (c *Client) listByToken(ctx context.Context, in CreateInstanceInput, token string) (found, mismatched []Instance, err error) {
	list := ListInstancesInput{}
	if in.Placement != nil && in.Placement.ServerID != "" {
		list.ServerIDs = []string{in.Placement.ServerID}
	}
	all, _, err := c.listOnce(ctx, list, nil)
	if err != nil {
		return nil, nil, err
	}
	for _, inst := range all {
		if inst.Metadata[CreateTokenKey] != token || inst.State == StateTerminated || inst.State == StateShuttingDown ||
			c.creates.isClaimed(inst.ID) {
			continue
		}
		if matchesCreate(in, inst) {
			found = append(found, inst)
		} else {
			mismatched = append(mismatched, inst)
		}
	}
	return found, mismatched, nil
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

// deleteDuplicates starts the deletion of every live instance other than
// keep that carries the token: an earlier attempt of this create that
// landed after all. It returns the IDs whose deletion was started.
func (c *Client) deleteDuplicates(ctx context.Context, token, keep string) []string {
	ids, err := c.duplicatesOf(ctx, token, keep)
	if err != nil {
		c.logger.WarnContext(ctx, "could not check for duplicates of a resent create", "instance_id", keep, "error", err.Error())
	}
	var deleted []string
	for _, id := range ids {
		if err := c.DeleteInstance(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			c.logger.ErrorContext(ctx, "an earlier attempt of this create made a duplicate instance, and deleting it failed: delete it by hand",
				"duplicate_id", id, "instance_id", keep, "error", err.Error())
			continue
		}
		c.logger.WarnContext(ctx, "an earlier attempt of this create made a duplicate instance; its deletion was started (not waited for)",
			"duplicate_id", id, "instance_id", keep)
		deleted = append(deleted, id)
	}
	return deleted
}

// duplicatesOf lists the live instances other than keep that carry the
// token (the whole project: a duplicate may be on any server).
func (c *Client) duplicatesOf(ctx context.Context, token, keep string) ([]string, error) {
	all, err := c.listAll(ctx, ListInstancesInput{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, inst := range all {
		if inst.ID != keep && inst.Metadata[CreateTokenKey] == token &&
			inst.State != StateTerminated && inst.State != StateShuttingDown {
			out = append(out, inst.ID)
		}
	}
	return out, nil
}

// RemoveCreateDuplicates looks again, after a create that was resent, for
// instances that carry its token besides the one it returned (an earlier
// attempt that landed later than the API promises) and starts their
// deletion. It returns the IDs whose deletion was started. A create that
// was not resent cannot have duplicates, and costs no call.
func (c *Client) RemoveCreateDuplicates(ctx context.Context, res CreateResult) []string {
	if !res.Resent || res.ID == "" || res.Token == "" {
		return nil
	}
	return c.deleteDuplicates(ctx, res.Token, res.ID)
}

// uncertain builds a *CreateUncertainError.
func uncertain(in CreateInstanceInput, token string, candidates []Instance, createErr, lookErr error, reason string) *CreateUncertainError {
	e := &CreateUncertainError{Name: in.Name, Token: token, Reason: reason, Err: createErr, Lookup: lookErr}
	for _, inst := range candidates {
		e.Candidates = append(e.Candidates, inst.ID)
	}
	if len(e.Candidates) == 1 {
		e.InstanceID = e.Candidates[0]
	}
	return e
}

// newCreateToken returns 128 random bits in hex.
func newCreateToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("clouddc: making a create token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
