// Package simulator is a local, stateful implementation of the CloudDC
// iMetal instance API. Tests, benchmarks and the demo run against it, and
// users can run it (cmd/clouddc-simulator) to try their Terraform code
// without a cloud account. It follows the contract in clouddc-api.md and
// shares no code with the client, so that each checks the other.
package simulator

import (
	"container/heap"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Operation names, as counted by RequestCount.
const (
	OpCreateInstance     = "CreateInstance"
	OpListInstances      = "ListInstances"
	OpShowInstanceStatus = "ShowInstanceStatus"
	OpDeleteInstance     = "DeleteInstance"
)

// Options configure a Simulator. The zero value is usable: it gives one
// project with one token, ten servers, the default catalogue, and
// operations that take a few seconds.
type Options struct {
	// ProjectID and Token are the project and the token that may use it.
	// Defaults: DefaultProjectID and DefaultToken.
	ProjectID string
	Token     string

	// CreateDuration and DeleteDuration are how long a creation or a
	// deletion takes. Zero means instantly.
	CreateDuration time.Duration
	DeleteDuration time.Duration
	// Retention is how long a terminated instance stays visible before it
	// answers 404. Zero means it vanishes at once.
	Retention time.Duration

	// Servers is the number of physical servers in the pool (default 10).
	Servers int
	// Images and Subnets are the catalogues (defaults: DefaultImages and
	// DefaultSubnets).
	Images  []ImageSpec
	Subnets []SubnetSpec

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

	mu        sync.Mutex
	tokens    map[string]string // token -> project ID
	instances map[string]*record
	seqs      map[string]uint64 // every ID ever listed -> its sequence, for markers
	nextSeq   uint64
	servers   []*Server
	serverIdx map[string]*Server
	images    map[string]ImageSpec
	subnets   map[string]SubnetSpec
	usedIPs   map[netip.Addr]string // address -> instance ID
	due       dueHeap
	counts    map[string]int
	failNext  map[string][]ErrorInfo // transition kind -> queued failures
}

// New builds a simulator.
func New(opts Options) (*Simulator, error) {
	if opts.ProjectID == "" {
		opts.ProjectID = DefaultProjectID
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Servers == 0 {
		opts.Servers = 10
	}
	if opts.Servers < 0 {
		return nil, errors.New("simulator: the number of servers must not be negative")
	}
	if opts.CreateDuration < 0 || opts.DeleteDuration < 0 || opts.Retention < 0 {
		return nil, errors.New("simulator: durations must not be negative")
	}
	if len(opts.Images) == 0 {
		opts.Images = DefaultImages()
	}
	if len(opts.Subnets) == 0 {
		opts.Subnets = DefaultSubnets()
	}
	s := &Simulator{
		opts:      opts,
		now:       opts.Now,
		logger:    opts.Logger,
		tokens:    map[string]string{opts.Token: opts.ProjectID},
		instances: map[string]*record{},
		seqs:      map[string]uint64{},
		serverIdx: map[string]*Server{},
		images:    map[string]ImageSpec{},
		subnets:   map[string]SubnetSpec{},
		usedIPs:   map[netip.Addr]string{},
		counts:    map[string]int{},
		failNext:  map[string][]ErrorInfo{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	for i := range opts.Servers {
		srv := &Server{ID: fmt.Sprintf("a0000000-0000-4000-8000-%012d", i+1), Name: fmt.Sprintf("imetal-server-%03d", i+1)}
		s.servers = append(s.servers, srv)
		s.serverIdx[srv.ID] = srv
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
	s.routes()
	return s, nil
}

// ProjectID returns the project ID the default token belongs to.
func (s *Simulator) ProjectID() string { return s.opts.ProjectID }

// Token returns the default token.
func (s *Simulator) Token() string { return s.opts.Token }

// AddToken lets another token in, for the given project.
func (s *Simulator) AddToken(token, projectID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = projectID
}

func (s *Simulator) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/{project_id}/instances", s.api(OpCreateInstance, s.createInstance))
	s.mux.HandleFunc("GET /v1/{project_id}/instances", s.api(OpListInstances, s.listInstances))
	s.mux.HandleFunc("GET /v1/{project_id}/instances/{id}/status", s.api(OpShowInstanceStatus, s.showInstanceStatus))
	s.mux.HandleFunc("DELETE /v1/{project_id}/instances/{id}", s.api(OpDeleteInstance, s.deleteInstance))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// What Huawei's API gateway answers for a path it does not route.
		writeError(w, &apiError{status: http.StatusNotFound, code: "APIGW.0101",
			msg: "The API does not exist or has not been published in the environment"})
	})
}

// ServeHTTP serves the CloudDC API.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", newRequestID())
	s.mux.ServeHTTP(w, r)
}

// handlerFunc is an API operation: it runs under the simulator's lock,
// after authentication, and returns the status and the body to send.
type handlerFunc func(r *http.Request, body []byte) (int, any, *apiError)

// api wraps an operation with counting, authentication, body reading,
// the lifecycle clock, and the error format of the API.
func (s *Simulator) api(op string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			writeError(w, errInvalid("request body is too large or unreadable"))
			return
		}
		status, out, apiErr := s.handle(op, r, body, h)
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

func (s *Simulator) handle(op string, r *http.Request, body []byte, h handlerFunc) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[op]++
	token := r.Header.Get("X-Auth-Token")
	project, ok := s.tokens[token]
	if token == "" || !ok {
		return 0, nil, &apiError{status: http.StatusUnauthorized, code: "iMetal.0003",
			msg: "Authentication failed: the X-Auth-Token header is missing, invalid or expired"}
	}
	if project != r.PathValue("project_id") {
		return 0, nil, &apiError{status: http.StatusForbidden, code: "iMetal.0004",
			msg: "Insufficient permissions: the token does not belong to project " + r.PathValue("project_id")}
	}
	s.advanceLocked()
	return h(r, body)
}

// RequestCount returns how many requests an operation has received.
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

// Ensure dueHeap satisfies heap.Interface.
var _ heap.Interface = (*dueHeap)(nil)
