package clouddc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The API's CreateInstance has no idempotency token, and the API may carry
// a create out although its answer was a 5xx, a timeout or a lost
// connection, up to a minute later. (*Client).CreateInstance therefore
// makes its own certainty:
//
//   - Every create carries a create token: a random value under the
//     metadata key CreateTokenKey, made once per CreateInstance call
//     and sent again, unchanged, with every resend. Only this call knows
//     it, so an instance that carries it was made by this call and no
//     other: not by a sibling create with the same name, not by someone
//     else.
//   - When the outcome of a create is unknown, the client looks for the
//     token over CreateLookup.Window (a minute) before it sends anything
//     again, and resends only when a complete listing taken after the
//     window shows no instance carrying it. The lookups of every pending
//     create of a client share one whole-project listing at a time
//     (create_lookup.go). It adopts an instance only by its token.
//   - A create pinned to a server is resent at once instead: the server is
//     the idempotency key. A first attempt that landed makes the resend
//     fail with iMetal.0101 (the server is not ready), and the lookup then
//     finds the first attempt's instance by its token.
//   - An instance ID is claimed once per Client: two creates of one
//     process never return the same instance.
//   - When it still cannot tell (the listings keep failing, the context
//     ended after the request was written, a 2xx answer without a usable
//     ID whose instance never shows), it returns a *CreateUncertainError
//     that names the token, what it found, and until when an instance may
//     still appear (Deadline), instead of guessing. ResolveCreate settles
//     such a create later, in another run.

// CreateTokenKey is the metadata key that carries a create's token. It is
// reserved: a CreateInstanceInput must not set it, and it takes one of the
// MaxMetadataPairs pairs the API allows, so callers have MaxUserMetadata.
const CreateTokenKey = "terraform-provider-clouddc:create-token" //nolint:gosec // G101: a metadata key, not a credential

// MaxMetadataPairs is the most metadata pairs the API accepts.
const MaxMetadataPairs = 10

// MaxUserMetadata is how many metadata pairs CreateInstance leaves to
// its caller: one pair carries the create token.
const MaxUserMetadata = MaxMetadataPairs - 1

// CreateLookup says how CreateInstance looks for the instance of a
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
	// MinGap is the shortest time between two whole-project listings made
	// for lookups (default FirstDelay): however many creates are pending,
	// the client lists at most this often for all of them.
	MinGap time.Duration
}

// DefaultCreateLookup is the lookup CreateInstance uses unless
// WithCreateLookup changes it.
func DefaultCreateLookup() CreateLookup {
	return CreateLookup{Window: time.Minute, FirstDelay: 500 * time.Millisecond, MaxDelay: 10 * time.Second, Interrupted: 10 * time.Second,
		MinGap: 500 * time.Millisecond}
}

// WithCreateLookup replaces DefaultCreateLookup. Tests use it to look for
// seconds instead of a minute.
func WithCreateLookup(l CreateLookup) Option {
	return func(c *Client) error {
		if l.Window <= 0 || l.FirstDelay <= 0 || l.MaxDelay < l.FirstDelay || l.Interrupted <= 0 || l.MinGap < 0 {
			return errors.New("the create lookup needs a positive window, first delay and interrupted bound, max delay >= first delay, and a gap >= 0")
		}
		if l.MinGap == 0 {
			l.MinGap = l.FirstDelay
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

// CreateResult says how CreateInstance got its instance.
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
	// Duplicates are the instances that carried the token besides ID (made
	// by an earlier attempt that landed late), found when the create
	// returned.
	Duplicates Duplicates
	// SettleBy is when every attempt of this create has surely landed or
	// never will: until then a late attempt, or a request the gateway
	// replayed, may still make an instance carrying the token
	// (RemoveTokenDuplicates finds and deletes those).
	SettleBy time.Time
}

// CreateUncertainError is returned when CreateInstance cannot tell
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
	// Deadline is when the create's outcome can be settled: an instance it
	// made may still appear until then (the API may carry a create out up
	// to CreateLookup.Window after its client stopped waiting). Zero when
	// the create certainly made an instance (InstanceID is set).
	Deadline time.Time
	// Duplicates are other instances carrying the token whose deletion
	// was started (see CreateResult.Duplicates).
	Duplicates []string
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

// classifyCreate reads the error of one create request. The retry layer
// (do) has already decided whether the request may have reached the API:
// only an *OutcomeUnknownError says it may have and that nothing came back
// to tell. Anything else (the API's own refusal, a 429, a connection that
// failed or a context that ended before the request was written) made
// nothing. A 2xx answer whose body cannot be read, is too large, or names
// no usable instance ID made an instance.
func classifyCreate(err error) createOutcome {
	var decodeErr *DecodeError
	var tooLarge *ResponseTooLargeError
	if errors.As(err, &decodeErr) || errors.Is(err, errNoInstanceID) ||
		(errors.As(err, &tooLarge) && tooLarge.StatusCode >= 200 && tooLarge.StatusCode <= 299) {
		return created
	}
	var unknown *OutcomeUnknownError
	if errors.As(err, &unknown) {
		return maybeCreated
	}
	return notCreated
}

// CreateInstance creates an instance and returns it, never making
// two, and never returning an instance it did not make (see the top of
// this file). in must not set the metadata key CreateTokenKey and may have
// at most MaxUserMetadata pairs.
func (c *Client) CreateInstance(ctx context.Context, in CreateInstanceInput) (CreateResult, error) {
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
	return c.createWithToken(ctx, in, token)
}

// createWithToken is CreateInstance once in carries its token.
func (c *Client) createWithToken(ctx context.Context, in CreateInstanceInput, token string) (CreateResult, error) {
	settings := c.creates.settings()
	pinned := in.Placement != nil && in.Placement.ServerID != ""
	res := CreateResult{Token: token}
	// unknownSince is when the last attempt whose outcome is unknown
	// stopped waiting for its answer (zero while there is none): an
	// instance it made may appear until a window after that.
	var unknownSince time.Time
	// provenAbsent: a lookup over a whole window since unknownSince showed
	// that no attempt so far made anything.
	provenAbsent := false
	for {
		res.Attempts++
		id, err := c.postCreate(ctx, in)
		if err == nil {
			if !c.creates.claim(id) {
				return res, fmt.Errorf("clouddc: CreateInstance answered with instance %s, which another create of this provider already returned", id)
			}
			res.ID, res.SettleBy = id, time.Now().Add(settings.Window)
			if !unknownSince.IsZero() {
				res.Duplicates = c.deleteDuplicates(ctx, token, id, time.Now())
			}
			return res, nil
		}
		outcome := classifyCreate(err)
		if outcome == notCreated {
			if unknownSince.IsZero() {
				return res, err
			}
			// This attempt was refused, but an earlier one may have made
			// the instance: a pinned server that is "not ready" because
			// the first attempt took it, or an attempt that landed after
			// the window after all.
			return c.settleRefusal(ctx, res, in, err, unknownSince, provenAbsent, settings)
		}
		unknownSince, provenAbsent = time.Now(), false
		if ctx.Err() != nil {
			return c.lookAfterInterrupt(ctx, res, in, err, unknownSince, settings)
		}
		if pinned && outcome == maybeCreated && res.Attempts <= c.retry.MaxRetries {
			c.logger.WarnContext(ctx, "the outcome of CreateInstance is unknown; sending it again at once, since the server it asks for can take only one instance",
				"name", in.Name, "server_id", in.Placement.ServerID, "attempt", res.Attempts, "error", err.Error())
			res.Resent = true
			continue
		}
		c.logger.WarnContext(ctx, "the outcome of CreateInstance is unknown; looking for the instance it may have made before sending anything again",
			"name", in.Name, "attempt", res.Attempts, "window", settings.Window.String(), "error", err.Error())
		look := c.lookForCreate(ctx, in, token, unknownSince, settings)
		switch {
		case len(look.holders) > 0:
			return c.adopt(ctx, res, in, look.holders, err)
		case ctx.Err() != nil:
			return c.lookAfterInterrupt(ctx, res, in, err, unknownSince, settings)
		case !look.absent && outcome == created:
			return res, uncertain(in, token, nil, err, look.err, unknownSince.Add(settings.Window), fmt.Sprintf(
				"the API accepted it (HTTP 2xx) without a usable instance ID, and no complete listing of the instances could be read within %s",
				settings.Window))
		case !look.absent:
			return res, uncertain(in, token, nil, err, look.err, unknownSince.Add(settings.Window), fmt.Sprintf(
				"its outcome is unknown and no complete listing of the instances could be read within %s, so it was not sent again", settings.Window))
		case outcome == created:
			return res, uncertain(in, token, nil, err, nil, unknownSince.Add(settings.Window), fmt.Sprintf(
				"the API accepted it (HTTP 2xx) without a usable instance ID, and no instance carrying its create token was listed within %s", settings.Window))
		case res.Attempts > c.retry.MaxRetries:
			return res, &CreateNotMadeError{Err: err, Window: settings.Window, MaxRetries: c.retry.MaxRetries}
		}
		provenAbsent = true
		c.logger.InfoContext(ctx, "no instance was made by the create with an unknown outcome; sending it again", "name", in.Name,
			"attempt", res.Attempts)
		res.Resent = true
	}
}

// settleRefusal decides a create whose last attempt the API refused after
// an earlier attempt's outcome was unknown. A window's lookup since then
// either finds the earlier attempt's instance (adopted) or shows that
// nothing was made (the refusal is then the answer). When an earlier
// lookup already proved absence, one more listing suffices.
func (c *Client) settleRefusal(ctx context.Context, res CreateResult, in CreateInstanceInput, refusal error, unknownSince time.Time,
	provenAbsent bool, s CreateLookup,
) (CreateResult, error) {
	if provenAbsent {
		holders, err := c.tokenHolders(ctx, in.Metadata[CreateTokenKey], time.Now())
		if err == nil && len(holders) > 0 {
			return c.adopt(ctx, res, in, holders, refusal)
		}
		return res, refusal
	}
	c.logger.WarnContext(ctx, "a create was refused after an earlier attempt's outcome was unknown; looking for the earlier attempt's instance",
		"name", in.Name, "error", refusal.Error())
	look := c.lookForCreate(ctx, in, in.Metadata[CreateTokenKey], unknownSince, s)
	switch {
	case len(look.holders) > 0:
		return c.adopt(ctx, res, in, look.holders, refusal)
	case look.absent:
		return res, refusal
	case ctx.Err() != nil:
		return c.lookAfterInterrupt(ctx, res, in, refusal, unknownSince, s)
	}
	return res, uncertain(in, in.Metadata[CreateTokenKey], nil, refusal, look.err, unknownSince.Add(s.Window), fmt.Sprintf(
		"an earlier attempt's outcome was unknown, the last attempt was refused, and no complete listing of the instances could be read within %s", s.Window))
}

// createAnswerID matches an instance ID as the API gives it: a lower-case
// UUID (DESIGN.md, 8.1).
var createAnswerID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// postCreate sends one CreateInstance (the retry layer resends it only
// when it certainly had no effect). A 2xx answer without a usable ID is
// errNoInstanceID, a *DecodeError or a *ResponseTooLargeError.
func (c *Client) postCreate(ctx context.Context, in CreateInstanceInput) (string, error) {
	var out struct {
		InstanceID string `json:"instance_id"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: c.projectPath("instances"), in: in, out: &out}); err != nil {
		return "", err
	}
	if !createAnswerID.MatchString(out.InstanceID) {
		return "", errNoInstanceID
	}
	return out.InstanceID, nil
}

// uncertain builds a *CreateUncertainError.
func uncertain(in CreateInstanceInput, token string, candidates []Instance, createErr, lookErr error, deadline time.Time, reason string) *CreateUncertainError {
	e := &CreateUncertainError{Name: in.Name, Token: token, Reason: reason, Err: createErr, Lookup: lookErr, Deadline: deadline}
	for _, inst := range candidates {
		e.Candidates = append(e.Candidates, inst.ID)
	}
	if len(e.Candidates) > 0 {
		e.InstanceID = e.Candidates[0]
		e.Deadline = time.Time{}
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
