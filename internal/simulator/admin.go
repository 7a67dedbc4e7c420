package simulator

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The admin HTTP API sets faults and reads what the simulator saw, for a
// simulator running as a binary (cmd/clouddc-simulator) where the Go API
// is out of reach. It lives under adminPrefix, is on only when
// Options.AdminToken is set, and every request must send that token in the
// X-Simulator-Admin-Token header. It speaks JSON; durations are Go
// duration strings ("1.5s", "250ms") or numbers of seconds. Admin requests
// are not counted in Stats and no fault or rate limit applies to them.
//
//	GET    /_simulator/stats                   Stats
//	POST   /_simulator/stats/reset             ResetStats
//	GET    /_simulator/instances               {"instances": [Timeline]}
//	GET    /_simulator/instances/{id}/history  Timeline
//	GET    /_simulator/faults                  {"faults": [Fault]} still queued
//	POST   /_simulator/faults                  InjectFault: Fault, "retry_after", "late", "hold", "replay"
//	DELETE /_simulator/faults                  ClearFaults
//	PUT    /_simulator/rate-limit              {"per_second", "burst", "retry_after", "plain_text"}
//	PUT    /_simulator/failure-rate            {"op", "rate", "status", "seed"}
//	PUT    /_simulator/latency                 {"op", "latency"}
//	POST   /_simulator/fail-next               {"kind": create|delete|reinstall|modify-ip, "code", "msg"}
//	PUT    /_simulator/deletes                 {"hold": bool}; false releases the held ones
//	POST   /_simulator/deletes/release         ReleaseDeletes
//	POST   /_simulator/tokens/{token}/expire   {"after"}; no body expires it now
//	POST   /_simulator/tokens                  AddToken: {"token", "project_id", "instances_only"}
//	POST   /_simulator/projects                AddProject: {"project_id", "name", "token"}
//	GET    /_simulator/settings                {"legacy", "vanish_on_terminate", "page_size_cap",
//	                                            "ignore_id_filter", "operation_lag"}
//	PUT    /_simulator/settings                the same; fields left out are unchanged
//	GET    /_simulator/sink                    {"url", "requests": [SinkRequest]}; starts the RedirectSink
//
// A fault's body, lose_items, hide_items, gateway, redirect_to ("sink" or
// a URL), body_bytes and retry_after_header make the answers of
// faultanswers.go; ignore_filter makes a listing ignore its ID filter.

// AdminTokenHeader is the header that carries Options.AdminToken.
const AdminTokenHeader = "X-Simulator-Admin-Token" //nolint:gosec // G101: a header name, not a token

const adminPrefix = "/_simulator"

// adminDuration is a duration in an admin request: a Go duration string or
// a number of seconds.
type adminDuration time.Duration

// UnmarshalJSON reads "1.5s" or 1.5.
func (d *adminDuration) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		v, err := time.ParseDuration(str)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as \"1.5s\" or \"250ms\"", str)
		}
		*d = adminDuration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("%s is neither a duration string nor a number of seconds", b)
	}
	*d = adminDuration(time.Duration(secs * float64(time.Second)))
	return nil
}

// MarshalJSON writes a Go duration string.
func (d adminDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// adminSettings is the body of GET and PUT /_simulator/settings.
type adminSettings struct {
	Legacy            *bool          `json:"legacy,omitempty"`
	VanishOnTerminate *bool          `json:"vanish_on_terminate,omitempty"`
	PageSizeCap       *int           `json:"page_size_cap,omitempty"`
	IgnoreIDFilter    *bool          `json:"ignore_id_filter,omitempty"`
	OperationLag      *adminDuration `json:"operation_lag,omitempty"`
}

// adminRoutes maps the admin endpoints to their handlers, one named
// method each, so that a new endpoint is one line here and one handler.
func (s *Simulator) adminRoutes() {
	m := http.NewServeMux()
	s.admin = m
	m.HandleFunc("GET "+adminPrefix+"/stats", s.adminStats)
	m.HandleFunc("POST "+adminPrefix+"/stats/reset", s.adminResetStats)
	m.HandleFunc("GET "+adminPrefix+"/instances", s.adminInstances)
	m.HandleFunc("GET "+adminPrefix+"/instances/{id}/history", s.adminHistory)
	m.HandleFunc("GET "+adminPrefix+"/faults", s.adminFaults)
	m.HandleFunc("POST "+adminPrefix+"/faults", s.adminInjectFault)
	m.HandleFunc("DELETE "+adminPrefix+"/faults", s.adminClearFaults)
	m.HandleFunc("PUT "+adminPrefix+"/rate-limit", s.adminRateLimit)
	m.HandleFunc("PUT "+adminPrefix+"/failure-rate", s.adminFailureRate)
	m.HandleFunc("PUT "+adminPrefix+"/latency", s.adminLatency)
	m.HandleFunc("POST "+adminPrefix+"/fail-next", s.adminFailNext)
	m.HandleFunc("PUT "+adminPrefix+"/deletes", s.adminHoldDeletes)
	m.HandleFunc("POST "+adminPrefix+"/deletes/release", s.adminReleaseDeletes)
	m.HandleFunc("POST "+adminPrefix+"/tokens/{token}/expire", s.adminExpireToken)
	m.HandleFunc("POST "+adminPrefix+"/tokens", s.adminAddToken)
	m.HandleFunc("POST "+adminPrefix+"/projects", s.adminAddProject)
	m.HandleFunc("GET "+adminPrefix+"/settings", s.adminGetSettings)
	m.HandleFunc("PUT "+adminPrefix+"/settings", s.adminPutSettings)
	m.HandleFunc("GET "+adminPrefix+"/sink", s.adminSink)
	m.HandleFunc(adminPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "SIM.0404", r.Method+" "+r.URL.Path+" is not an admin endpoint; see the simulator guide")
	})
}

func (s *Simulator) adminStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Simulator) adminResetStats(w http.ResponseWriter, _ *http.Request) {
	s.ResetStats()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminInstances(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]Timeline{"instances": s.Timelines()})
}

func (s *Simulator) adminHistory(w http.ResponseWriter, r *http.Request) {
	tl, ok := s.Timeline(r.PathValue("id"))
	if !ok {
		adminError(w, http.StatusNotFound, "SIM.0404", "no instance "+r.PathValue("id")+" was ever created")
		return
	}
	writeJSON(w, http.StatusOK, tl)
}

func (s *Simulator) adminFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]Fault{"faults": s.QueuedFaults()})
}

func (s *Simulator) adminInjectFault(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Fault
		RetryAfter adminDuration `json:"retry_after"`
		Late       adminDuration `json:"late"`
		Hold       adminDuration `json:"hold"`
		Replay     adminDuration `json:"replay"`
	}
	if !adminDecode(w, r, &in) {
		return
	}
	f := in.Fault
	f.RetryAfter = time.Duration(in.RetryAfter)
	f.Late, f.Hold, f.Replay = time.Duration(in.Late), time.Duration(in.Hold), time.Duration(in.Replay)
	if msg := checkFault(f); msg != "" {
		adminError(w, http.StatusBadRequest, "SIM.0400", msg)
		return
	}
	s.InjectFault(f)
	w.WriteHeader(http.StatusNoContent)
}

// checkFault says what is wrong with a fault sent to the admin API, or "":
// a value out of range, or a combination whose meaning the simulator does
// not define (which it would otherwise carry out in some arbitrary way).
func checkFault(f Fault) string {
	switch {
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fmt.Sprintf("status %d is not an HTTP status from 200 to 599", f.Status)
	case f.Count < 0:
		return "count must not be negative"
	case f.Late < 0 || f.Hold < 0 || f.Replay < 0:
		return "late, hold and replay must not be negative"
	case f.LoseItems < 0 || f.HideItems < 0:
		return "lose_items and hide_items must not be negative"
	case f.Hold > 0 && !f.After && f.Late == 0:
		return "hold needs after (hold the answer after carrying the request out) or late (answer nothing, carry it out late)"
	case f.Late > 0 && f.After:
		return "late and after exclude each other: late carries the request out later, after carries it out before answering"
	case f.Late > 0 && f.Hold > 0 && (f.Drop || f.RawBody != nil || f.Status != 0):
		return "late with hold answers nothing: drop, raw_body and status do not apply"
	case f.Replay > 0 && (f.After || f.Late > 0 || f.Drop || f.Hold > 0 || f.RawBody != nil || f.Status != 0 || f.answersItself() || f.IgnoreFilter):
		return "replay answers the request as usual and carries it out again later; it takes no other fault field"
	case f.altersListing() && f.Op != "" && f.Op != OpListInstances:
		return fmt.Sprintf("lose_items, hide_items and ignore_filter alter a ListInstances; op %q is another operation", f.Op)
	case f.altersListing() && (f.After || f.Late > 0 || f.Drop || f.Hold > 0 || f.RawBody != nil || f.Body != "" ||
		f.Gateway || f.RedirectTo != "" || f.BodyBytes > 0 || f.RetryAfterHeader != ""):
		return "lose_items, hide_items and ignore_filter alter a real listing; they combine only with each other"
	case f.altersListing() && f.Status != 0 && f.Status != http.StatusOK:
		return fmt.Sprintf("lose_items, hide_items and ignore_filter answer a listing with 200, not %d", f.Status)
	case f.BodyBytes < 0 || f.BodyBytes > maxFaultBody:
		return fmt.Sprintf("body_bytes must be between 0 and %d", maxFaultBody)
	case f.RedirectTo != "" && f.Status != 0 && (f.Status < 300 || f.Status > 399):
		return fmt.Sprintf("a redirect needs a 3xx status, not %d", f.Status)
	case f.RedirectTo != "" && f.RedirectTo != SinkTarget && !strings.HasPrefix(f.RedirectTo, "http://") && !strings.HasPrefix(f.RedirectTo, "https://"):
		return fmt.Sprintf("redirect_to %q is neither %q nor an http(s) URL", f.RedirectTo, SinkTarget)
	}
	return ""
}

func (s *Simulator) adminClearFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminRateLimit(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PerSecond  float64       `json:"per_second"`
		Burst      int           `json:"burst"`
		RetryAfter adminDuration `json:"retry_after"`
		PlainText  bool          `json:"plain_text"`
	}
	if !adminDecode(w, r, &in) {
		return
	}
	if in.PerSecond < 0 || in.Burst < 0 {
		adminError(w, http.StatusBadRequest, "SIM.0400", "per_second and burst must not be negative")
		return
	}
	s.SetRateLimit(RateLimit{PerSecond: in.PerSecond, Burst: in.Burst, RetryAfter: time.Duration(in.RetryAfter), PlainText: in.PlainText})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminFailureRate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Op     string  `json:"op"`
		Rate   float64 `json:"rate"`
		Status int     `json:"status"`
		Seed   int64   `json:"seed"`
	}
	if !adminDecode(w, r, &in) || !adminOp(w, in.Op) {
		return
	}
	if in.Rate < 0 || in.Rate > 1 {
		adminError(w, http.StatusBadRequest, "SIM.0400", fmt.Sprintf("rate %v is not between 0 and 1", in.Rate))
		return
	}
	s.SetFailureRate(in.Op, in.Rate, in.Status, in.Seed)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminLatency(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Op      string        `json:"op"`
		Latency adminDuration `json:"latency"`
	}
	if !adminDecode(w, r, &in) || !adminOp(w, in.Op) {
		return
	}
	s.SetLatency(in.Op, time.Duration(in.Latency))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminFailNext(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind string `json:"kind"`
		Code string `json:"code"`
		Msg  string `json:"msg"`
	}
	if !adminDecode(w, r, &in) {
		return
	}
	code := cmpOr(in.Code, "iMetal.0099")
	msg := cmpOr(in.Msg, "the operation failed (injected by the simulator)")
	switch in.Kind {
	case "create":
		s.FailNextCreate(code, msg)
	case "delete":
		s.FailNextDelete(code, msg)
	case "reinstall":
		s.FailNextReinstall(code, msg)
	case "modify-ip":
		s.FailNextModifyIP(code, msg)
	default:
		adminError(w, http.StatusBadRequest, "SIM.0400", fmt.Sprintf("kind %q is not one of create, delete, reinstall, modify-ip", in.Kind))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminHoldDeletes(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Hold *bool `json:"hold"`
	}
	if !adminDecode(w, r, &in) {
		return
	}
	if in.Hold == nil {
		adminError(w, http.StatusBadRequest, "SIM.0400", "hold (true or false) is required")
		return
	}
	s.HoldDeletes(*in.Hold)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminReleaseDeletes(w http.ResponseWriter, _ *http.Request) {
	s.ReleaseDeletes()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminExpireToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		After adminDuration `json:"after"`
	}
	if !adminDecodeOptional(w, r, &in) {
		return
	}
	if in.After < 0 {
		adminError(w, http.StatusBadRequest, "SIM.0400", "after must not be negative")
		return
	}
	s.ExpireToken(r.PathValue("token"), time.Duration(in.After))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) adminGetSettings(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.settings())
}

func (s *Simulator) adminPutSettings(w http.ResponseWriter, r *http.Request) {
	var in adminSettings
	if !adminDecode(w, r, &in) {
		return
	}
	// Every check comes first, so that a refused body changes nothing.
	if in.PageSizeCap != nil && *in.PageSizeCap < 0 {
		adminError(w, http.StatusBadRequest, "SIM.0400", "page_size_cap must not be negative (0 turns the cap off)")
		return
	}
	if in.OperationLag != nil && *in.OperationLag < 0 {
		adminError(w, http.StatusBadRequest, "SIM.0400", "operation_lag must not be negative (0 turns the lag off)")
		return
	}
	if in.Legacy != nil {
		s.SetLegacy(*in.Legacy)
	}
	if in.VanishOnTerminate != nil {
		s.SetVanishOnTerminate(*in.VanishOnTerminate)
	}
	if in.PageSizeCap != nil {
		s.SetPageSizeCap(*in.PageSizeCap)
	}
	if in.IgnoreIDFilter != nil {
		s.SetIgnoreIDFilter(*in.IgnoreIDFilter)
	}
	if in.OperationLag != nil {
		s.SetOperationLag(time.Duration(*in.OperationLag))
	}
	writeJSON(w, http.StatusOK, s.settings())
}

// adminSink starts the RedirectSink if it is not running, and answers its
// URL and what it received.
func (s *Simulator) adminSink(w http.ResponseWriter, _ *http.Request) {
	k, err := s.RedirectSink()
	if err != nil {
		adminError(w, http.StatusInternalServerError, "SIM.0500", "starting the redirect sink failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"url": k.URL(), "requests": k.Requests()})
}

func (s *Simulator) settings() adminSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	legacy, vanish, pageCap, ignore, lag := s.legacy, s.vanish, s.pageSizeCap, s.ignoreIDFilter, adminDuration(s.operationLag)
	return adminSettings{Legacy: &legacy, VanishOnTerminate: &vanish, PageSizeCap: &pageCap,
		IgnoreIDFilter: &ignore, OperationLag: &lag}
}

func (s *Simulator) adminAddToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token     string `json:"token"`
		ProjectID string `json:"project_id"`
		TokenScope
	}
	if !adminDecode(w, r, &in) {
		return
	}
	if in.ProjectID == "" {
		in.ProjectID = s.opts.ProjectID
	}
	if err := s.AddToken(in.Token, in.ProjectID, in.TokenScope); err != nil {
		adminError(w, http.StatusBadRequest, "SIM.0400", strings.TrimPrefix(err.Error(), "simulator: "))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminAddProject adds a project and answers it with its servers' IDs.
func (s *Simulator) adminAddProject(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ProjectID string `json:"project_id"`
		Name      string `json:"name"`
		Token     string `json:"token"`
	}
	if !adminDecode(w, r, &in) {
		return
	}
	if err := s.AddProject(in.ProjectID, in.Name, in.Token); err != nil {
		adminError(w, http.StatusBadRequest, "SIM.0400", strings.TrimPrefix(err.Error(), "simulator: "))
		return
	}
	servers := []string{}
	for _, srv := range s.Servers() {
		if srv.ProjectID == in.ProjectID {
			servers = append(servers, srv.ID)
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"project_id": in.ProjectID, "name": in.Name, "server_ids": servers})
}

// serveAdmin checks the admin token and serves the admin API.
func (s *Simulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get(AdminTokenHeader)
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.AdminToken)) != 1 {
		adminError(w, http.StatusUnauthorized, "SIM.0401", "the "+AdminTokenHeader+" header is missing or wrong")
		return
	}
	s.admin.ServeHTTP(w, r)
}

func adminError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error_code": code, "error_msg": "Simulator admin API: " + msg})
}

// adminDecode reads a required JSON body; unknown fields are refused, so
// that a misspelt setting is not silently ignored.
func adminDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, "SIM.0400", "the body is not the expected JSON: "+err.Error())
		return false
	}
	return true
}

// adminDecodeOptional is adminDecode for a body that may be left out.
func adminDecodeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<16)); err != nil {
		adminError(w, http.StatusBadRequest, "SIM.0400", "the body cannot be read: "+err.Error())
		return false
	}
	if strings.TrimSpace(buf.String()) == "" {
		return true
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, "SIM.0400", "the body is not the expected JSON: "+err.Error())
		return false
	}
	return true
}

// adminOp checks an operation name ("" is every operation).
func adminOp(w http.ResponseWriter, op string) bool {
	if op == "" {
		return true
	}
	for _, known := range Operations() {
		if op == known {
			return true
		}
	}
	adminError(w, http.StatusBadRequest, "SIM.0400", fmt.Sprintf("op %q is not an operation; use one of %s", op, strings.Join(Operations(), ", ")))
	return false
}
