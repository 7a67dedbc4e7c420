package simulator

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Sink is a second listener that stands for the host a redirect points
// to. It answers every request with 200 and an empty JSON object, and
// records what each request carried, so that a test can assert that no
// token, signature or password followed a redirect (see Fault.RedirectTo).
type Sink struct {
	url string
	srv *http.Server

	mu   sync.Mutex
	reqs []SinkRequest
}

// SinkRequest is what a Sink saw of one request: its headers (all of them,
// credentials included, since finding those is the point) and its body.
type SinkRequest struct {
	Method  string              `json:"method"`
	URI     string              `json:"uri"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

// credentialHeaders are the headers that carry CloudDC credentials.
var credentialHeaders = []string{"X-Auth-Token", "X-Security-Token", "Authorization", "X-Sdk-Date"}

// Credentials returns the credential headers the request carried
// (X-Auth-Token, X-Security-Token, Authorization, X-Sdk-Date).
func (r SinkRequest) Credentials() map[string]string {
	out := map[string]string{}
	for _, h := range credentialHeaders {
		if v := http.Header(r.Headers).Get(h); v != "" {
			out[h] = v
		}
	}
	return out
}

// StartSink starts a Sink on a free loopback port. Close stops it.
func StartSink() (*Sink, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	k := &Sink{url: "http://" + ln.Addr().String()}
	k.srv = &http.Server{Handler: http.HandlerFunc(k.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = k.srv.Serve(ln) }()
	return k, nil
}

func (k *Sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	k.mu.Lock()
	k.reqs = append(k.reqs, SinkRequest{Method: r.Method, URI: r.RequestURI, Headers: r.Header.Clone(), Body: string(body)})
	k.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// URL is the Sink's base URL, such as "http://127.0.0.1:40123".
func (k *Sink) URL() string { return k.url }

// Requests returns every request the Sink received, oldest first.
func (k *Sink) Requests() []SinkRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]SinkRequest(nil), k.reqs...)
}

// Close stops the Sink.
func (k *Sink) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := k.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// RedirectSink returns the simulator's Sink, starting it on first use; the
// simulator's Close stops it. A Fault with RedirectTo "sink" points to it.
func (s *Simulator) RedirectSink() (*Sink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sink == nil {
		k, err := StartSink()
		if err != nil {
			return nil, err
		}
		s.sink = k
	}
	return s.sink, nil
}

// closeSink stops the Sink, if one was started.
func (s *Simulator) closeSink() error {
	s.mu.Lock()
	k := s.sink
	s.sink = nil
	s.mu.Unlock()
	if k == nil {
		return nil
	}
	return k.Close()
}
