// Package simulator is a local, stateful implementation of the CloudDC
// iMetal instance API. Tests, benchmarks and the demo run against it, and
// users can run it (cmd/clouddc-simulator) to try their Terraform code
// without a cloud account. It follows the API notes in DESIGN.md (section
// 8) and shares no code with the client, so that each checks the other. It
// authenticates requests by X-Auth-Token, or by an AK/SK signature
// (SDK-HMAC-SHA256) for the keys in Options.AccessKeys (aksk.go).
//
// Beyond the API it can misbehave on demand, as the real service and its
// gateway do (rate limits, failures, latency, dropped connections, failing
// operations, expiring tokens; see faults.go), report what it saw
// (Stats, Timelines), answer with the 2025 state names (Legacy), and keep
// its state in a file across restarts (Options.StateFile). All of it is
// reachable from Go and, for a running binary, over the admin HTTP API
// under /_simulator/ (admin.go).
package simulator

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Operation names, as counted by RequestCount and Stats, and as named by
// Fault.Op, SetFailureRate and SetLatency.
const (
	OpCreateInstance     = "CreateInstance"
	OpRunInstances       = "RunInstances"
	OpListInstances      = "ListInstances"
	OpShowInstanceStatus = "ShowInstanceStatus"
	OpDeleteInstance     = "DeleteInstance"
	OpDeleteInstances    = "DeleteInstances"
	OpReinstallOS        = "ReinstallOs"
	OpChangePassword     = "ChangeInstancePassword"
	OpModifyIP           = "ModifyInstanceIp"
	OpListServers        = "ListPhysicalServers"
	OpShowServer         = "ShowPhysicalServer"
	OpChangePowerState   = "ChangePhysicalServerPowerState"
)

// Operations lists every operation name, in the order of DESIGN.md, 8.3.
func Operations() []string {
	return []string{OpCreateInstance, OpRunInstances, OpListInstances, OpShowInstanceStatus,
		OpDeleteInstance, OpDeleteInstances, OpReinstallOS, OpChangePassword, OpModifyIP,
		OpListServers, OpShowServer, OpChangePowerState}
}

// Options configure a Simulator. The zero value is usable: it gives one
// project with one token, ten servers, the default catalogue, and
// operations that end at once.
type Options struct {
	// ProjectID and Token are the project and the token that may use it.
	// Defaults: DefaultProjectID and DefaultToken.
	ProjectID string
	Token     string
	// Region is the project's name in IAM, which GET /v3/projects?name=
	// looks it up by (iam.go). Default: DefaultRegion.
	Region string
	// AccessKeys are the AK/SK pairs accepted besides the token, by access
	// key ID (see aksk.go). Requests signed with SDK-HMAC-SHA256 are checked
	// against them. Default: none.
	AccessKeys map[string]AccessKey

	// CreateDuration and DeleteDuration are how long a creation or a
	// deletion takes. Zero means instantly.
	CreateDuration time.Duration
	DeleteDuration time.Duration
	// ReinstallDuration, ModifyIPDuration and PowerDuration are how long a
	// reinstall, an IP change and a server power action take. Zero means
	// instantly.
	ReinstallDuration time.Duration
	ModifyIPDuration  time.Duration
	PowerDuration     time.Duration
	// Spread, when set, makes the durations of creations, deletions,
	// reinstalls and IP changes vary from instance to instance around the
	// configured ones (spread.go). The zero value keeps them exact.
	Spread Spread
	// PageSizeCap, when positive, is the most items one page of
	// ListInstances or ListPhysicalServers holds, whatever limit asks for,
	// as a gateway that ignores limit would answer; the pages still link
	// with next_marker.
	PageSizeCap int
	// PowerStateLag is how long a physical server keeps reporting its
	// power state from before an accepted power action, as a real service
	// may while the change makes its way to the server: a reboot then shows
	// on, rebooting, on. Zero means the change shows at once.
	PowerStateLag time.Duration
	// Retention is how long a terminated instance stays visible before it
	// answers 404. Zero means it vanishes at once.
	Retention time.Duration

	// Servers is the number of physical servers in the pool (default 10).
	// A state file that holds servers overrides it.
	Servers int
	// Images and Subnets are the catalogues (defaults: DefaultImages and
	// DefaultSubnets).
	Images  []ImageSpec
	Subnets []SubnetSpec

	// Legacy makes the API answer with the 2025 state names (see
	// SetLegacy).
	Legacy bool
	// StateFile, when set, keeps the simulator's state in this file: it is
	// loaded by New and written after changes and by Close, so that the
	// simulator can be stopped and started between terraform apply and
	// terraform destroy.
	StateFile string
	// AdminToken turns on the admin HTTP API under /_simulator/; requests
	// to it must send this value in the X-Simulator-Admin-Token header.
	// Empty means the admin API is off (404).
	AdminToken string

	// Now is the clock (default time.Now). Tests may pass a fake one.
	Now func() time.Time
	// Logger receives a line for every state change (default: discarded).
	Logger *slog.Logger
}

// Simulator is a CloudDC API. It is an http.Handler and safe for concurrent
// use. Create one per test with New or StartTest; there are no globals.
type Simulator struct {
	opts   Options
	now    func() time.Time
	logger *slog.Logger
	mux    *http.ServeMux
	admin  *http.ServeMux

	mu     sync.Mutex
	tokens map[string]string // token -> project ID
	// tokenScopes narrow what a token grants (projects.go); a token
	// without an entry is granted everything.
	tokenScopes map[string]TokenScope
	// projects maps every project ID to its name in IAM (projects.go).
	projects  map[string]string
	instances map[string]*record
	order     []*record         // the instances of instances, by Seq
	seqs      map[string]uint64 // every ID ever listed -> its sequence, for markers
	nextSeq   uint64
	servers   []*serverRec
	serverIdx map[string]*serverRec
	images    map[string]ImageSpec
	subnets   map[string]SubnetSpec
	usedIPs   map[netip.Addr]string // address -> instance ID
	freeHint  map[string]netip.Addr // subnet ID -> the lowest address that may be free
	due       dueHeap
	closed    bool

	// accessKeys are the AK/SK pairs (aksk.go), by access key ID.
	accessKeys map[string]AccessKey

	// Behaviour switches.
	legacy      bool
	vanish      bool
	holdDeletes bool
	// pageSizeCap, ignoreIDFilter and operationLag are the settings of
	// page_cap.go, filter.go and operation_lag.go.
	pageSizeCap    int
	ignoreIDFilter bool
	operationLag   time.Duration
	failNext       map[string][]ErrorInfo // transition kind -> queued failures
	faultState

	// Observability.
	counts         map[string]int
	rateLimited    int
	faultsInjected int
	purged         map[string]*purgedRecord
	purgedOrder    []string

	// Persistence: dirtyLocked arms saveTimer; saveMu orders the writes.
	saveMu    sync.Mutex
	saveTimer *time.Timer
	saveErr   error
}

// New builds a simulator. With Options.StateFile it loads the state saved
// there; a file that cannot be read or is damaged is an error, never a
// silent fresh start.
func New(opts Options) (*Simulator, error) {
	if opts.ProjectID == "" {
		opts.ProjectID = DefaultProjectID
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Servers == 0 {
		opts.Servers = 10
	}
	if opts.Servers < 0 {
		return nil, errors.New("simulator: the number of servers must not be negative")
	}
	for _, d := range []time.Duration{opts.CreateDuration, opts.DeleteDuration, opts.Retention,
		opts.ReinstallDuration, opts.ModifyIPDuration, opts.PowerDuration} {
		if d < 0 {
			return nil, errors.New("simulator: durations must not be negative")
		}
	}
	if err := opts.Spread.validate(); err != nil {
		return nil, err
	}
	if len(opts.Images) == 0 {
		opts.Images = DefaultImages()
	}
	if len(opts.Subnets) == 0 {
		opts.Subnets = DefaultSubnets()
	}
	s := &Simulator{
		opts:        opts,
		now:         opts.Now,
		logger:      opts.Logger,
		tokens:      map[string]string{opts.Token: opts.ProjectID},
		tokenScopes: map[string]TokenScope{},
		projects:    map[string]string{opts.ProjectID: opts.Region},
		pageSizeCap: max(opts.PageSizeCap, 0),
		instances:   map[string]*record{},
		seqs:        map[string]uint64{},
		serverIdx:   map[string]*serverRec{},
		images:      map[string]ImageSpec{},
		subnets:     map[string]SubnetSpec{},
		usedIPs:     map[netip.Addr]string{},
		freeHint:    map[string]netip.Addr{},
		counts:      map[string]int{},
		failNext:    map[string][]ErrorInfo{},
		purged:      map[string]*purgedRecord{},
		legacy:      opts.Legacy,
	}
	s.resetFaults()
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.accessKeys = make(map[string]AccessKey, len(opts.AccessKeys))
	for ak, key := range opts.AccessKeys {
		if err := checkAccessKey(ak, key); err != nil {
			return nil, err
		}
		s.accessKeys[ak] = key
	}
	for _, im := range opts.Images {
		if !isUUID(im.ID) {
			return nil, fmt.Errorf("simulator: image ID %q is not a lower-case UUID", im.ID)
		}
		s.images[im.ID] = im
	}
	for _, sn := range opts.Subnets {
		if !isUUID(sn.ID) || !isUUID(sn.VPCID) || !sn.CIDR.Addr().Is4() || sn.CIDR.Bits() > 29 {
			return nil, fmt.Errorf("simulator: subnet %q needs UUIDs and an IPv4 CIDR of /29 or larger", sn.ID)
		}
		sn.CIDR = sn.CIDR.Masked()
		s.subnets[sn.ID] = sn
	}
	loaded := false
	if opts.StateFile != "" {
		var err error
		if loaded, err = s.load(opts.StateFile); err != nil {
			return nil, err
		}
	}
	if !loaded {
		s.addServersLocked(opts.ProjectID, opts.Servers)
		if opts.StateFile != "" {
			// Write the file at once, so that a wrong path shows now
			// and not at the first change.
			if err := s.save(); err != nil {
				return nil, err
			}
		}
	}
	s.routes()
	return s, nil
}

func serverID(n int) string { return fmt.Sprintf("a0000000-0000-4000-8000-%012d", n) }

// ProjectID returns the project ID the default token belongs to.
func (s *Simulator) ProjectID() string { return s.opts.ProjectID }

// Token returns the default token.
func (s *Simulator) Token() string { return s.opts.Token }

// AdminToken returns the token of the admin API ("" when it is off).
func (s *Simulator) AdminToken() string { return s.opts.AdminToken }

// Close stops the simulator's timers and writes the state file, if there
// is one. Requests after Close are still answered, but transitions then
// advance only when a request arrives, and nothing more is saved.
func (s *Simulator) Close() error {
	if err := s.closeSink(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.advanceLocked()
	s.closed = true
	for _, r := range s.instances {
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
	}
	for _, srv := range s.servers {
		if srv.timer != nil {
			srv.timer.Stop()
			srv.timer = nil
		}
	}
	if s.saveTimer != nil {
		s.saveTimer.Stop()
		s.saveTimer = nil
	}
	s.mu.Unlock()
	if s.opts.StateFile == "" {
		return nil
	}
	if err := s.save(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveErr
}

func (s *Simulator) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/{project_id}/instances", s.api(OpCreateInstance, s.createInstance))
	s.mux.HandleFunc("POST /v1/{project_id}/instances/batch-create", s.api(OpRunInstances, s.runInstances))
	s.mux.HandleFunc("GET /v1/{project_id}/instances", s.api(OpListInstances, s.listInstances))
	s.mux.HandleFunc("GET /v1/{project_id}/instances/{id}/status", s.api(OpShowInstanceStatus, s.showInstanceStatus))
	s.mux.HandleFunc("DELETE /v1/{project_id}/instances/{id}", s.api(OpDeleteInstance, s.deleteInstance))
	s.mux.HandleFunc("POST /v1/{project_id}/instances/batch-delete", s.api(OpDeleteInstances, s.deleteInstances))
	s.mux.HandleFunc("PUT /v1/{project_id}/instances/reinstall", s.api(OpReinstallOS, s.reinstallOS))
	s.mux.HandleFunc("PUT /v1/{project_id}/instances/password", s.api(OpChangePassword, s.changePassword))
	s.mux.HandleFunc("PUT /v1/{project_id}/instances/{id}/ip", s.api(OpModifyIP, s.modifyIP))
	s.mux.HandleFunc("GET /v1/{project_id}/physicalservers", s.api(OpListServers, s.listServers))
	s.mux.HandleFunc("GET /v1/{project_id}/physicalservers/{id}", s.api(OpShowServer, s.showServer))
	s.mux.HandleFunc("PUT /v1/{project_id}/physicalservers/power-state", s.api(OpChangePowerState, s.changePowerState))
	s.mux.HandleFunc("GET /v3/projects", s.listProjects)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { s.notRouted(w) })
	s.adminRoutes()
}

// notRouted answers what Huawei's API gateway answers for a path it does
// not route.
func (s *Simulator) notRouted(w http.ResponseWriter) {
	writeError(w, &apiError{status: http.StatusNotFound, code: "APIGW.0101",
		msg: "The API does not exist or has not been published in the environment"})
}

// ServeHTTP serves the CloudDC API, and the admin API under /_simulator/
// when Options.AdminToken is set.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", newRequestID())
	if s.opts.AdminToken != "" && (r.URL.Path == adminPrefix || strings.HasPrefix(r.URL.Path, adminPrefix+"/")) {
		s.serveAdmin(w, r)
		return
	}
	if p := r.URL.Path; !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		// ServeMux would answer an unclean path with a redirect; the API
		// gateway answers it as a path it does not route.
		s.notRouted(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// handlerFunc is an API operation: it runs under the simulator's lock,
// after authentication, and returns the status and the body to send.
type handlerFunc func(r *http.Request, body []byte) (int, any, *apiError)

// api wraps an operation with counting, the faults, authentication, body
// reading, the lifecycle clock, and the error format of the API.
func (s *Simulator) api(op string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		adm := s.admit(op, r)
		if adm.delay > 0 && !sleepCtx(r.Context(), adm.delay) {
			return // the client gave up; nobody reads an answer
		}
		if adm.reject != nil {
			adm.reject.write(w)
			return
		}
		f := adm.fault
		if f != nil && f.IgnoreFilter {
			// The request loses its ID filter on the way; what else the
			// fault does (HideItems, LoseItems) applies to the answer.
			r = withoutIDFilter(r)
			if !f.answersItself() {
				f = nil
			}
		}
		if f != nil && f.Replay > 0 && readErr == nil {
			// Answered as usual below, and carried out again later.
			s.carryOutLate(op, r, body, h, f.Replay)
			f = nil
		}
		if f != nil && f.Late > 0 && readErr == nil {
			s.carryOutLate(op, r, body, h, f.Late)
			switch {
			case f.Hold > 0:
				// No answer at all: the connection is held until Hold
				// passes or the client gives up, then closed.
				sleepCtx(r.Context(), f.Hold)
				panic(http.ErrAbortHandler)
			case f.Drop:
				panic(http.ErrAbortHandler) // the connection is lost instead
			}
			faultAnswer(*f).write(w)
			return
		}
		if f != nil && f.answersItself() {
			s.answerFault(w, r, *f, func() (int, any, *apiError) {
				if readErr != nil {
					return 0, nil, errInvalid("request body is too large or unreadable")
				}
				return s.handle(op, r, body, h)
			})
			return
		}
		if f != nil && !f.After {
			if f.Drop {
				// Close the connection without an answer: the request
				// was not carried out.
				panic(http.ErrAbortHandler)
			}
			faultAnswer(*f).write(w)
			return
		}
		var (
			status int
			out    any
			apiErr *apiError
		)
		if readErr != nil {
			apiErr = errInvalid("request body is too large or unreadable")
		} else {
			status, out, apiErr = s.handle(op, r, body, h)
		}
		if f != nil { // an After fault: the request was carried out
			if f.Hold > 0 && !sleepCtx(r.Context(), f.Hold) {
				return // the client gave up first, as it was meant to
			}
			if f.Drop {
				dropMidBody(w, status, out, apiErr)
			}
			faultAnswer(*f).write(w)
			return
		}
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		if out == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, out)
	}
}

// carryOutLate carries a request out after delay, on a copy of it that
// outlives the client's connection: the backend that goes on after its
// gateway has answered, or a gateway that replays a request. Nobody reads
// the result.
func (s *Simulator) carryOutLate(op string, r *http.Request, body []byte, h handlerFunc, delay time.Duration) {
	late := r.Clone(context.WithoutCancel(r.Context()))
	time.AfterFunc(delay, func() {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return
		}
		_, _, apiErr := s.handle(op, late, body, h)
		if apiErr != nil {
			s.logger.Info("a late request failed", "method", late.Method, "path", late.URL.Path, "error_code", apiErr.code)
		}
	})
}

func (s *Simulator) handle(op string, r *http.Request, body []byte, h handlerFunc) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, authErr := s.authenticateLocked(r, body)
	if authErr != nil {
		return 0, nil, authErr
	}
	if who.project != r.PathValue("project_id") {
		return 0, nil, &apiError{status: http.StatusForbidden, code: "iMetal.0004",
			msg: "Insufficient permissions: the credentials do not belong to project " + r.PathValue("project_id")}
	}
	if apiErr := who.scope.permits(op); apiErr != nil {
		return 0, nil, apiErr
	}
	s.advanceLocked()
	status, out, apiErr := h(r, body)
	if apiErr == nil && r.Method != http.MethodGet {
		s.dirtyLocked()
	}
	return status, out, apiErr
}

// authenticateLocked returns the project and the scope of the request's
// credentials: an AK/SK signature when the Authorization header carries one
// (X-Auth-Token is then ignored, as the official SDKs send no token with a
// signature), otherwise the X-Auth-Token.
func (s *Simulator) authenticateLocked(r *http.Request, body []byte) (caller, *apiError) {
	if isAKSKRequest(r) {
		return s.authenticateAKSKLocked(r, body)
	}
	token := r.Header.Get("X-Auth-Token")
	project, ok := s.tokens[token]
	if token == "" || !ok {
		return caller{}, &apiError{status: http.StatusUnauthorized, code: "iMetal.0003",
			msg: "Authentication failed: the X-Auth-Token header is missing, invalid or expired"}
	}
	if exp, ok := s.tokenExpiry[token]; ok && !s.now().Before(exp) {
		return caller{}, &apiError{status: http.StatusUnauthorized, code: "iMetal.0003",
			msg: "Authentication failed: the token has expired; get a new IAM token"}
	}
	return caller{project: project, scope: s.tokenScopes[token]}, nil
}

// RequestCount returns how many requests an operation has received,
// including those refused, rate limited or failed by a fault.
func (s *Simulator) RequestCount(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// RequestCounts returns the request count of every operation.
func (s *Simulator) RequestCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// apiError is an error answer in the API's format.
type apiError struct {
	status int
	code   string
	msg    string
}

func errInvalid(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "iMetal.0001", msg: "Invalid parameter: " + msg}
}

func errMissing(field string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "iMetal.0002", msg: "Missing required parameter: " + field}
}

func errInstanceNotFound(ids ...string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "iMetal.0200", msg: fmt.Sprintf("Instances not found: %v", ids)}
}

func errServerNotFound(ids ...string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "iMetal.0100", msg: fmt.Sprintf("Physical servers not found: %v", ids)}
}

func errInvalidState(id, state, op string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "iMetal.0201",
		msg: fmt.Sprintf("Instance %s is in state %s, which does not allow %s", id, state, op)}
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"error_code": e.code, "error_msg": e.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// checkStateDir fails early when the state file's folder does not exist.
func checkStateDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("simulator: state file %s: its folder cannot be used: %w", path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("simulator: state file %s: %s is not a folder", path, dir)
	}
	return nil
}

// Ensure dueHeap satisfies heap.Interface.
var _ heap.Interface = (*dueHeap)(nil)
