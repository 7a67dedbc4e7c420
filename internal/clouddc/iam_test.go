package clouddc

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestLookupProjectID_request: the lookup is one GET of /v3/projects with
// the name in the query, authenticated like any other call, and signed
// without X-Project-Id (the project list is not inside a project).
func TestLookupProjectID_request(t *testing.T) {
	t.Parallel()
	const body = `{"projects":[{"id":"p-east","name":"cn-east-3","enabled":true},{"id":"p-sub","name":"cn-east-3_sub"}],"links":{}}`
	for _, tc := range []struct {
		name string
		auth Option
	}{
		{"token", WithToken(testToken)},
		{"access key", WithAKSK(testAccessKey, testSecretKey, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, rec := newRecordingServer(t, answer(http.StatusOK, body, "Content-Type", "application/json"))
			id, err := LookupProjectID(testContextFor(t, 5*time.Second), srv.URL, "cn-east-3", tc.auth, noRetry)
			if err != nil || id != "p-east" {
				t.Fatalf("LookupProjectID = %q, %v; want p-east", id, err)
			}
			req := rec.last(t)
			if req.Method != http.MethodGet || req.Path != "/v3/projects" || req.RequestURI != "/v3/projects?name=cn-east-3" {
				t.Errorf("request %s %s, want GET /v3/projects?name=cn-east-3", req.Method, req.RequestURI)
			}
			if h := req.Header.Get("X-Project-Id"); h != "" {
				t.Errorf("X-Project-Id: %q, want none", h)
			}
		})
	}
}

// TestLookupProjectID_notExactlyOne: none, or more than one, is an error
// that names what IAM listed; a project of another name in the answer is
// never taken.
func TestLookupProjectID_notExactlyOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		notFound   bool
		want       string
	}{
		{"none", `{"projects":[]}`, true, `no project named "cn-east-3"`},
		{"another name only", `{"projects":[{"id":"p-sub","name":"cn-east-3_sub"}]}`, true, `no project named "cn-east-3"`},
		{"two", `{"projects":[{"id":"a","name":"cn-east-3"},{"id":"b","name":"cn-east-3"}]}`, false, `2 projects named "cn-east-3" (a, b)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newRecordingServer(t, answer(http.StatusOK, tc.body, "Content-Type", "application/json"))
			_, err := LookupProjectID(testContextFor(t, 5*time.Second), srv.URL, "cn-east-3", WithToken(testToken), noRetry)
			var lookupErr *ProjectLookupError
			if !errors.As(err, &lookupErr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ProjectLookupError saying %q", err, tc.want)
			}
			if errors.Is(err, ErrProjectNotFound) != tc.notFound {
				t.Errorf("errors.Is(err, ErrProjectNotFound) = %v, want %v", !tc.notFound, tc.notFound)
			}
		})
	}
}

// TestLookupProjectID_keystoneError: IAM's error format becomes the
// APIError's code and message, with the status and the request ID.
func TestLookupProjectID_keystoneError(t *testing.T) {
	t.Parallel()
	srv, _ := newRecordingServer(t, answer(http.StatusUnauthorized,
		`{"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}}`,
		"Content-Type", "application/json", "X-Request-Id", "req-iam-1"))
	_, err := LookupProjectID(testContextFor(t, 5*time.Second), srv.URL, "cn-east-3", WithToken(testToken), noRetry)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error %v, want a 401 APIError", err)
	}
	if apiErr.Code != "Unauthorized" || apiErr.Message != "The request you have made requires authentication." || apiErr.RequestID != "req-iam-1" {
		t.Errorf("APIError %+v: want IAM's title, message and request ID", apiErr)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("the token leaks into the error: %v", err)
	}
}

// TestLookupProjectID_simulator: the simulator's IAM answers for its own
// project, to a token and to a signature it checks with its own code, and
// refuses a wrong key.
func TestLookupProjectID_simulator(t *testing.T) {
	t.Parallel()
	sim := newAKSKSim(t)
	ctx := testContextFor(t, 5*time.Second)
	for _, auth := range []Option{WithToken(sim.Token()), WithAKSK(testAccessKey, testSecretKey, ""),
		WithAKSK("AKTEMPORARY0000001", "temporary-"+testSecretKey, testSecurityToken)} {
		id, err := LookupProjectID(ctx, sim.URL, sim.Region(), auth, noRetry)
		if err != nil || id != sim.ProjectID() {
			t.Errorf("LookupProjectID = %q, %v; want %s", id, err, sim.ProjectID())
		}
	}
	if _, err := LookupProjectID(ctx, sim.URL, "ap-southeast-3", WithToken(sim.Token()), noRetry); !errors.Is(err, ErrProjectNotFound) {
		t.Errorf("another region: %v, want ErrProjectNotFound", err)
	}
	// A key of another project sees no project of this name.
	if _, err := LookupProjectID(ctx, sim.URL, sim.Region(), WithAKSK("AKOTHERPROJECT0001", testSecretKey, ""), noRetry); !errors.Is(err, ErrProjectNotFound) {
		t.Errorf("a key of another project: %v, want ErrProjectNotFound", err)
	}
	if _, err := LookupProjectID(ctx, sim.URL, sim.Region(), WithAKSK(testAccessKey, "wrong", ""), noRetry); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("a wrong secret key: %v, want ErrUnauthorized", err)
	}
	if n := sim.RequestCount(simulator.OpListProjects); n != 6 {
		t.Errorf("the simulator counted %d project lookups, want 6", n)
	}
}
