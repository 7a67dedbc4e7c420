package clouddc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewClient_requiredOptions(t *testing.T) {
	t.Parallel()
	endpoint := WithEndpoint("https://clouddc.cn-east-3.myhuaweicloud.com")
	project := WithProjectID(testProject)
	token := WithToken(testToken)
	aksk := WithAKSK(testAccessKey, testSecretKey, "")

	tests := []struct {
		name    string
		opts    []Option
		wantErr string // empty: success
	}{
		{name: "no options", opts: nil, wantErr: "clouddc: an endpoint is required"},
		{name: "missing endpoint", opts: []Option{project, token}, wantErr: "clouddc: an endpoint is required"},
		{name: "missing project", opts: []Option{endpoint, token}, wantErr: "clouddc: a project ID is required"},
		{name: "missing credentials", opts: []Option{endpoint, project}, wantErr: "clouddc: a token or an access key is required"},
		{name: "token and access key", opts: []Option{endpoint, project, token, aksk}, wantErr: "clouddc: use a token or an access key, not both"},
		{name: "empty access key", opts: []Option{endpoint, project, WithAKSK("", testSecretKey, "")}, wantErr: "clouddc: access key must not be empty"},
		{name: "empty secret key", opts: []Option{endpoint, project, WithAKSK(testAccessKey, "", "")}, wantErr: "clouddc: secret key must not be empty"},
		{name: "access key with a comma", opts: []Option{endpoint, project, WithAKSK("AK,X", testSecretKey, "")},
			wantErr: "clouddc: access key must not contain commas or white space"},
		{name: "empty project", opts: []Option{endpoint, WithProjectID(""), token}, wantErr: "clouddc: project ID must not be empty"},
		{name: "empty token", opts: []Option{endpoint, project, WithToken("")}, wantErr: "clouddc: token must not be empty"},
		{name: "all present", opts: []Option{endpoint, project, token}},
		{name: "order does not matter", opts: []Option{token, project, endpoint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.opts...)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("NewClient succeeded; want error %q", tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error = %q; want %q", err, tt.wantErr)
				}
				if c != nil {
					t.Errorf("NewClient returned a client with its error")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			if got := c.ProjectID(); got != testProject {
				t.Errorf("ProjectID() = %q; want %q", got, testProject)
			}
			if c.token != testToken {
				t.Errorf("token = %q; want the configured token", c.token)
			}
			if c.aksk != nil {
				t.Errorf("a token client has AK/SK credentials")
			}
		})
	}
}

func TestNewClient_endpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		wantErr  string // substring; empty: success
		wantHost string
		wantPath string
	}{
		{endpoint: "clouddc.cn-east-3.myhuaweicloud.com", wantErr: "is not an absolute URL"},
		{endpoint: "", wantErr: "is not an absolute URL"},
		{endpoint: "ftp://clouddc.example.com", wantErr: `has the scheme "ftp"; use https`},
		{endpoint: "file:///etc/passwd", wantErr: "is not an absolute URL"},
		{endpoint: "https://", wantErr: "is not an absolute URL"},
		{endpoint: "http:///v1", wantErr: "is not an absolute URL"},
		{endpoint: "https://clouddc.example.com?region=cn-east-3", wantErr: "must not have a query string or a fragment"},
		{endpoint: "https://clouddc.example.com/?x", wantErr: "must not have a query string or a fragment"},
		{endpoint: "https://clouddc.example.com#top", wantErr: "must not have a query string or a fragment"},
		{endpoint: "https://clouddc.example.com?", wantErr: "must not have a query string or a fragment"},
		{endpoint: "://no-scheme", wantErr: "is not a valid URL"},
		{endpoint: "https://bad host.example.com", wantErr: "is not a valid URL"},
		{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", wantHost: "clouddc.cn-east-3.myhuaweicloud.com", wantPath: ""},
		{endpoint: "http://127.0.0.1:8080/", wantHost: "127.0.0.1:8080", wantPath: ""},
		// Plain http only to loopback: credentials never cross a network
		// in clear text (DESIGN.md, section 2).
		{endpoint: "http://127.9.9.9", wantHost: "127.9.9.9"},
		{endpoint: "http://localhost:8787", wantHost: "localhost:8787"},
		{endpoint: "http://LOCALHOST", wantHost: "LOCALHOST"},
		{endpoint: "http://[::1]:8787", wantHost: "[::1]:8787"},
		{endpoint: "https://10.0.0.5:8443/proxy", wantHost: "10.0.0.5:8443", wantPath: "/proxy"},
		{endpoint: "http://clouddc.cn-east-3.myhuaweicloud.com", wantErr: "uses plain http to a host that is not loopback"},
		{endpoint: "http://10.0.0.5", wantErr: "uses plain http to a host that is not loopback"},
		{endpoint: "http://localhost.example.com", wantErr: "uses plain http to a host that is not loopback"},
		{endpoint: "https://user:pw@clouddc.example.com", wantErr: "must not contain user information"},
		{endpoint: "https://gw.example.com/clouddc/", wantHost: "gw.example.com", wantPath: "/clouddc"},
		{endpoint: "https://gw.example.com/clouddc///", wantHost: "gw.example.com", wantPath: "/clouddc"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(WithEndpoint(tt.endpoint), WithProjectID(testProject), WithToken(testToken))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("NewClient(%q) succeeded; want an error containing %q", tt.endpoint, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "clouddc: ") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %q; want the prefix %q and %q", err, "clouddc: ", tt.wantErr)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("error %q contains the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient(%q): %v", tt.endpoint, err)
			}
			if c.endpoint.Host != tt.wantHost || c.endpoint.Path != tt.wantPath {
				t.Errorf("endpoint host/path = %q %q; want %q %q", c.endpoint.Host, c.endpoint.Path, tt.wantHost, tt.wantPath)
			}
		})
	}
}

func TestNewClient_optionsNeverPanic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     Option
		wantErr string // substring; empty: success
	}{
		{name: "nil option", opt: nil, wantErr: "option 4 is nil"},
		{name: "nil HTTP client", opt: WithHTTPClient(nil), wantErr: "HTTP client must not be nil"},
		{name: "nil logger", opt: WithLogger(nil), wantErr: "logger must not be nil"},
		{name: "zero poll schedule", opt: WithPollSchedule(PollSchedule{}), wantErr: "poll intervals must be positive"},
		{name: "unparsable endpoint", opt: WithEndpoint("https://%zz"), wantErr: "is not a valid URL"},
		{name: "control character endpoint", opt: WithEndpoint("https://h\x7f.example.com"), wantErr: "is not a valid URL"},
		{name: "empty project", opt: WithProjectID(""), wantErr: "project ID must not be empty"},
		{name: "empty token", opt: WithToken(""), wantErr: "token must not be empty"},
		{name: "empty user agent", opt: WithUserAgent("")},
		{name: "custom HTTP client", opt: WithHTTPClient(&http.Client{})},
		{name: "logger", opt: WithLogger(slog.New(slog.DiscardHandler))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				c   *Client
				err error
			)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("NewClient panicked: %v", r)
					}
				}()
				c, err = NewClient(WithEndpoint("https://clouddc.example.com"), WithProjectID(testProject), WithToken(testToken), tt.opt)
			}()
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("NewClient = %v, %v; want a client", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v; want one containing %q", err, tt.wantErr)
			}
			if c != nil {
				t.Errorf("NewClient returned a client with its error")
			}
		})
	}
}

func TestNewClient_defaults(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithEndpoint("https://clouddc.example.com"), WithProjectID(testProject), WithToken(testToken))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if c.userAgent != DefaultUserAgent {
		t.Errorf("user agent = %q; want %q", c.userAgent, DefaultUserAgent)
	}
	if c.poll != DefaultPollSchedule() {
		t.Errorf("poll schedule = %+v; want %+v", c.poll, DefaultPollSchedule())
	}
	if c.http == nil || c.http == http.DefaultClient || c.http.Timeout <= 0 {
		t.Errorf("HTTP client = %+v; want a private client with a timeout", c.http)
	}
	if c.logger == nil {
		t.Error("logger is nil; want a discarding logger")
	}
}

// roundTripperFunc lets a test answer requests without a server.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClient_withHTTPClient(t *testing.T) {
	t.Parallel()
	var got []string
	hc := &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.Method+" "+r.URL.String())
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(`{"state":"running","operation_state":"install-succeed"}`)),
			Request:    r,
		}, nil
	})}
	c := newTestClient(t, "https://clouddc.example.com", WithHTTPClient(hc))
	st, err := c.ShowInstanceStatus(context.Background(), testID)
	if err != nil {
		t.Fatalf("ShowInstanceStatus: %v", err)
	}
	if st.State != StateRunning || st.OperationState != OpInstallSucceed {
		t.Errorf("status = %+v; want running/install-succeed", st)
	}
	want := "GET https://clouddc.example.com/v1/" + testProject + "/instances/" + testID + "/status"
	if len(got) != 1 || got[0] != want {
		t.Errorf("the custom transport saw %q; want [%q]", got, want)
	}
}

// TestClient_requestHeaders checks the headers of every operation.
func TestClient_requestHeaders(t *testing.T) {
	t.Parallel()
	srv, rec := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost:
			_, _ = io.WriteString(w, `{"instance_id":"`+testID+`"}`)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/status"):
			_, _ = io.WriteString(w, `{"state":"running"}`)
		default:
			_, _ = io.WriteString(w, `{"instances":[{"id":"`+testID+`"}],"count":1}`)
		}
	})
	base := "/v1/" + testProject + "/instances"
	tests := []struct {
		name     string
		call     func(*Client) error
		method   string
		path     string
		withBody bool
	}{
		{
			name: "CreateInstance", method: http.MethodPost, path: base, withBody: true,
			call: func(c *Client) error {
				_, err := c.CreateInstanceByHand(context.Background(), CreateInstanceInput{Name: "web-1", Password: "Secret-123"})
				return err
			},
		},
		{
			name: "ListInstances", method: http.MethodGet, path: base,
			call: func(c *Client) error {
				_, err := c.ListInstances(context.Background(), ListInstancesInput{Limit: 20})
				return err
			},
		},
		{
			name: "GetInstance", method: http.MethodGet, path: base,
			call: func(c *Client) error {
				_, err := c.GetInstance(context.Background(), testID)
				return err
			},
		},
		{
			name: "ShowInstanceStatus", method: http.MethodGet, path: base + "/" + testID + "/status",
			call: func(c *Client) error {
				_, err := c.ShowInstanceStatus(context.Background(), testID)
				return err
			},
		},
		{
			name: "DeleteInstance", method: http.MethodDelete, path: base + "/" + testID,
			call: func(c *Client) error { return c.DeleteInstance(context.Background(), testID) },
		},
	}
	for _, ua := range []struct{ name, opt, want string }{
		{name: "default user agent", want: DefaultUserAgent},
		{name: "custom user agent", opt: "terraform-provider-clouddc/1.2.3 (+https://example.com)", want: "terraform-provider-clouddc/1.2.3 (+https://example.com)"},
		{name: "empty user agent falls back", opt: "", want: DefaultUserAgent},
	} {
		for _, tt := range tests {
			t.Run(ua.name+"/"+tt.name, func(t *testing.T) {
				// Not parallel: the subtests share one recorder.
				var opts []Option
				if ua.opt != "" || ua.name == "empty user agent falls back" {
					opts = append(opts, WithUserAgent(ua.opt))
				}
				c := newTestClient(t, srv.URL, opts...)
				before := rec.count()
				if err := tt.call(c); err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				if n := rec.count() - before; n != 1 {
					t.Fatalf("%s sent %d requests; want 1", tt.name, n)
				}
				r := rec.last(t)
				if r.Method != tt.method || r.Path != tt.path {
					t.Errorf("request = %s %s; want %s %s", r.Method, r.Path, tt.method, tt.path)
				}
				if got := r.Header.Values("X-Auth-Token"); len(got) != 1 || got[0] != testToken {
					t.Errorf("X-Auth-Token = %q; want [%q]", got, testToken)
				}
				if got := r.Header.Get("Accept"); got != "application/json" {
					t.Errorf("Accept = %q; want application/json", got)
				}
				if got := r.Header.Get("User-Agent"); got != ua.want {
					t.Errorf("User-Agent = %q; want %q", got, ua.want)
				}
				ct, hasCT := r.Header["Content-Type"]
				if tt.withBody {
					if !hasCT || len(ct) != 1 || ct[0] != "application/json" {
						t.Errorf("Content-Type = %q; want [application/json] on a request with a body", ct)
					}
					if !json.Valid(r.Body) {
						t.Errorf("body %q is not JSON", r.Body)
					}
				} else {
					if hasCT {
						t.Errorf("Content-Type = %q on a request without a body; want none", ct)
					}
					if len(r.Body) != 0 {
						t.Errorf("body = %q; want none", r.Body)
					}
				}
			})
		}
	}
}

func TestClient_pathEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, project, id string
		wantStatusURI     string
		wantDeleteURI     string
	}{
		{
			name: "plain IDs", project: testProject, id: testID,
			wantStatusURI: "/v1/" + testProject + "/instances/" + testID + "/status",
			wantDeleteURI: "/v1/" + testProject + "/instances/" + testID,
		},
		{
			name: "slash space and query characters", project: "proj/with space", id: "id/with?odd#chars",
			wantStatusURI: "/v1/proj%2Fwith%20space/instances/id%2Fwith%3Fodd%23chars/status",
			wantDeleteURI: "/v1/proj%2Fwith%20space/instances/id%2Fwith%3Fodd%23chars",
		},
		{
			name: "percent sign", project: "p%41", id: "../x",
			wantStatusURI: "/v1/p%2541/instances/..%2Fx/status",
			wantDeleteURI: "/v1/p%2541/instances/..%2Fx",
		},
		{
			name: "unicode", project: "项目", id: "实例",
			wantStatusURI: "/v1/%E9%A1%B9%E7%9B%AE/instances/%E5%AE%9E%E4%BE%8B/status",
			wantDeleteURI: "/v1/%E9%A1%B9%E7%9B%AE/instances/%E5%AE%9E%E4%BE%8B",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, rec := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodDelete {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				_, _ = io.WriteString(w, `{"state":"running"}`)
			})
			c := newTestClient(t, srv.URL, WithProjectID(tt.project))
			if _, err := c.ShowInstanceStatus(context.Background(), tt.id); err != nil {
				t.Fatalf("ShowInstanceStatus: %v", err)
			}
			if err := c.DeleteInstance(context.Background(), tt.id); err != nil {
				t.Fatalf("DeleteInstance: %v", err)
			}
			reqs := rec.all()
			if len(reqs) != 2 {
				t.Fatalf("got %d requests; want 2", len(reqs))
			}
			if reqs[0].RequestURI != tt.wantStatusURI {
				t.Errorf("ShowInstanceStatus sent %q; want %q", reqs[0].RequestURI, tt.wantStatusURI)
			}
			if reqs[1].RequestURI != tt.wantDeleteURI {
				t.Errorf("DeleteInstance sent %q; want %q", reqs[1].RequestURI, tt.wantDeleteURI)
			}
			wantPath := "/v1/" + tt.project + "/instances/" + tt.id + "/status"
			if reqs[0].Path != wantPath {
				t.Errorf("the server decoded the path as %q; want %q", reqs[0].Path, wantPath)
			}
		})
	}
}

func TestClient_invalidInstanceID(t *testing.T) {
	t.Parallel()
	srv, rec := newRecordingServer(t, nil)
	c := newTestClient(t, srv.URL)
	for _, id := range []string{"", ".", ".."} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			if _, err := c.ShowInstanceStatus(context.Background(), id); err == nil || !strings.Contains(err.Error(), "is not an instance ID") {
				t.Errorf("ShowInstanceStatus(%q) error = %v; want an invalid-ID error", id, err)
			}
			if err := c.DeleteInstance(context.Background(), id); err == nil || !strings.Contains(err.Error(), "is not an instance ID") {
				t.Errorf("DeleteInstance(%q) error = %v; want an invalid-ID error", id, err)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("the server received %d requests; want none for invalid IDs", n)
	}
}

func TestClient_queryEscaping(t *testing.T) {
	t.Parallel()
	srv, rec := newRecordingServer(t, nil)
	c := newTestClient(t, srv.URL)
	marker := "a&b=c d/e?f#g"
	if _, err := c.ListInstances(context.Background(), ListInstancesInput{Marker: marker, State: "weird state&x=1"}); err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	r := rec.last(t)
	if got := r.Query["marker"]; len(got) != 1 || got[0] != marker {
		t.Errorf("marker = %q; want [%q]", got, marker)
	}
	if got := r.Query["instance_state"]; len(got) != 1 || got[0] != "weird state&x=1" {
		t.Errorf("instance_state = %q; want the state as given", got)
	}
	if _, ok := r.Query["x"]; ok {
		t.Errorf("a value leaked into its own query parameter: %v", r.Query)
	}
}

func TestClient_endpointBasePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		suffix   string
		wantPath string
	}{
		{suffix: "", wantPath: "/v1/" + testProject + "/instances/" + testID + "/status"},
		{suffix: "/", wantPath: "/v1/" + testProject + "/instances/" + testID + "/status"},
		{suffix: "/api", wantPath: "/api/v1/" + testProject + "/instances/" + testID + "/status"},
		{suffix: "/api/", wantPath: "/api/v1/" + testProject + "/instances/" + testID + "/status"},
		{suffix: "/api//", wantPath: "/api/v1/" + testProject + "/instances/" + testID + "/status"},
		{suffix: "/a/b/c/", wantPath: "/a/b/c/v1/" + testProject + "/instances/" + testID + "/status"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.suffix), func(t *testing.T) {
			t.Parallel()
			srv, rec := newRecordingServer(t, answer(http.StatusOK, `{"state":"running"}`))
			c := newTestClient(t, srv.URL+tt.suffix)
			if _, err := c.ShowInstanceStatus(context.Background(), testID); err != nil {
				t.Fatalf("ShowInstanceStatus: %v", err)
			}
			if got := rec.last(t).RequestURI; got != tt.wantPath {
				t.Errorf("request URI = %q; want %q", got, tt.wantPath)
			}
		})
	}
}

func TestClient_createInstanceBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   CreateInstanceInput
		want map[string]any
	}{
		{
			name: "required fields only",
			in: CreateInstanceInput{
				Name: "web-1", ImageID: "img", VPCID: "vpc", Password: "Secret-123",
				NetworkInterfaces: []NetworkInterface{{SubnetID: "sn1"}},
			},
			want: map[string]any{
				"name": "web-1", "image_id": "img", "vpc_id": "vpc", "password": "Secret-123",
				"network_interfaces": []any{map[string]any{"subnet_id": "sn1"}},
			},
		},
		{
			name: "every field",
			in: CreateInstanceInput{
				Name: "db-1", ImageID: "img", VPCID: "vpc", Password: "Secret-123",
				NetworkInterfaces: []NetworkInterface{{SubnetID: "sn1", IPv4Address: "192.168.0.10"}, {SubnetID: "sn2"}},
				Metadata:          map[string]string{"team": "core"},
				Description:       "primary database",
				Placement:         &Placement{ServerID: "srv-1"},
			},
			want: map[string]any{
				"name": "db-1", "image_id": "img", "vpc_id": "vpc", "password": "Secret-123",
				"network_interfaces": []any{
					map[string]any{"subnet_id": "sn1", "ipv4_address": "192.168.0.10"},
					map[string]any{"subnet_id": "sn2"},
				},
				"metadata":    map[string]any{"team": "core"},
				"description": "primary database",
				"placement":   map[string]any{"server_id": "srv-1"},
			},
		},
		{
			name: "empty placement sends an empty object",
			in: CreateInstanceInput{
				Name: "x", ImageID: "img", VPCID: "vpc", Password: "Secret-123",
				NetworkInterfaces: []NetworkInterface{{SubnetID: "sn1"}},
				Placement:         &Placement{},
			},
			want: map[string]any{
				"name": "x", "image_id": "img", "vpc_id": "vpc", "password": "Secret-123",
				"network_interfaces": []any{map[string]any{"subnet_id": "sn1"}},
				"placement":          map[string]any{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, rec := newRecordingServer(t, answer(http.StatusOK, `{"instance_id":"`+testID+`"}`))
			c := newTestClient(t, srv.URL)
			id, err := c.CreateInstanceByHand(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("CreateInstance: %v", err)
			}
			if id != testID {
				t.Errorf("ID = %q; want %q", id, testID)
			}
			var got map[string]any
			if err := json.Unmarshal(rec.last(t).Body, &got); err != nil {
				t.Fatalf("decoding the body: %v", err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("body = %s\nwant   %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestClient_successAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(*Client) (string, error)
		wantID  string
		wantErr string // substring; empty: success
	}{
		{
			name:    "create 200",
			handler: answer(http.StatusOK, `{"instance_id":"`+testID+`"}`),
			call:    create, wantID: testID,
		},
		{
			name:    "create 201 (any 2xx)",
			handler: answer(http.StatusCreated, `{"instance_id":"`+testID+`"}`),
			call:    create, wantID: testID,
		},
		{
			name:    "create 202 with unknown fields",
			handler: answer(http.StatusAccepted, `{"instance_id":"`+testID+`","job_id":"j-1"}`),
			call:    create, wantID: testID,
		},
		{
			name:    "create without instance_id",
			handler: answer(http.StatusOK, `{}`),
			call:    create, wantErr: "answered without an instance_id",
		},
		{
			name:    "create with an HTML 200",
			handler: answer(http.StatusOK, `<html>maintenance</html>`),
			call:    create, wantErr: "decoding the answer to POST /v1/" + testProject + "/instances (HTTP 200)",
		},
		{
			name:    "delete 204",
			handler: answer(http.StatusNoContent, ``),
			call:    deleteCall,
		},
		{
			name:    "delete 202 with a body",
			handler: answer(http.StatusAccepted, `{"job_id":"j-1"}`),
			call:    deleteCall,
		},
		{
			name:    "delete 200 with a non-JSON body",
			handler: answer(http.StatusOK, `ok`),
			call:    deleteCall,
		},
		{
			name:    "status with an empty 200",
			handler: answer(http.StatusOK, ``),
			call: func(c *Client) (string, error) {
				_, err := c.ShowInstanceStatus(context.Background(), testID)
				return "", err
			},
			wantErr: "decoding the answer to GET",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newRecordingServer(t, tt.handler)
			c := newTestClient(t, srv.URL)
			id, err := tt.call(c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v; want one containing %q", err, tt.wantErr)
				}
				var apiErr *APIError
				if errors.As(err, &apiErr) {
					t.Errorf("a 2xx answer gave an *APIError: %v", apiErr)
				}
				if IsTransient(err) {
					t.Errorf("IsTransient(%v) = true; a malformed 2xx answer is not worth retrying", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if id != tt.wantID {
				t.Errorf("ID = %q; want %q", id, tt.wantID)
			}
		})
	}
}

func create(c *Client) (string, error) {
	return c.CreateInstanceByHand(context.Background(), CreateInstanceInput{Name: "web-1", Password: "Secret-123"})
}

func deleteCall(c *Client) (string, error) {
	return "", c.DeleteInstance(context.Background(), testID)
}

func TestCreateInstanceInput_String(t *testing.T) {
	t.Parallel()
	const password = "Very-Secret-Pa55"
	in := CreateInstanceInput{Name: "web-1", ImageID: "img", VPCID: "vpc", Password: password,
		NetworkInterfaces: []NetworkInterface{{SubnetID: "a"}, {SubnetID: "b"}}}
	for _, format := range []string{"%v", "%s", "%+v", "%q"} {
		for _, v := range []any{in, &in} {
			got := fmt.Sprintf(format, v)
			if strings.Contains(got, password) {
				t.Errorf("Sprintf(%q, %T) = %q; it shows the password", format, v, got)
			}
		}
	}
	got := in.String()
	for _, want := range []string{`Name:"web-1"`, `ImageID:"img"`, `VPCID:"vpc"`, "NICs:2", "Password:(hidden)"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %q; want it to contain %q", got, want)
		}
	}
}

func TestClient_contextCancelledBeforeRequest(t *testing.T) {
	t.Parallel()
	srv, rec := newRecordingServer(t, nil)
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err := c.ShowInstanceStatus(ctx, testID)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v; want context.Canceled", err)
	}
	if IsTransient(err) {
		t.Errorf("IsTransient(%v) = true; want false for a cancelled context", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a cancelled request took %v", d)
	}
	if n := rec.count(); n != 0 {
		t.Errorf("the server received %d requests; want none", n)
	}
}
