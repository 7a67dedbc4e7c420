package clouddc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzClientDecoding feeds the client arbitrary answers (status, header and
// body) and checks that it never panics, that every non-2xx answer becomes
// an *APIError whose message is valid UTF-8, and that a 2xx answer either
// decodes or fails with an error.
func FuzzClientDecoding(f *testing.F) {
	f.Add(200, "", `{"state":"running","operation_state":"install-succeed"}`)
	f.Add(200, "", `{"state":"teminated"}`)
	f.Add(200, "", `{"state":"hibernating","error":{"error_code":"x","error_msg":"y","error_type":"z"}}`)
	f.Add(200, "", `{"instances":[{"id":"a","state":"failed","network_interfaces":[{}],"metadata":null}],"page_info":{},"count":1}`)
	f.Add(200, "", `{"state":5}`)
	f.Add(200, "", `{`)
	f.Add(404, "", `{"error_code":"iMetal.0200","error_msg":"Instances not found: [x]"}`)
	f.Add(429, "3", "Too Many Requests")
	f.Add(429, "Wed, 21 Oct 2015 07:28:00 GMT", "")
	f.Add(503, "", "<html>\xff\xfe</html>")
	f.Add(500, "-1", `{"error_code":null,"error_msg":{"nested":true}}`)

	var mu sync.Mutex
	var status int
	var retryAfter, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		st, ra, b := status, retryAfter, body
		mu.Unlock()
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.WriteHeader(st)
		_, _ = w.Write([]byte(b))
	}))
	f.Cleanup(srv.Close)
	c, err := NewClient(WithEndpoint(srv.URL), WithProjectID("p"), WithToken("secret-token"), WithRetryPolicy(RetryPolicy{}))
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, st int, ra, b string) {
		if st < 200 || st > 599 {
			st = 200 + (abs(st) % 400)
		}
		for _, r := range ra { // header values must be printable to be sent at all
			if r < 0x20 || r > 0x7e {
				ra = strconv.Quote(ra)[1:]
				break
			}
		}
		mu.Lock()
		status, retryAfter, body = st, ra, b
		mu.Unlock()
		ctx := context.Background()

		_, err1 := c.ShowInstanceStatus(ctx, "11111111-2222-4333-8444-555555555555")
		_, err2 := c.ListInstances(ctx, ListInstancesInput{})
		for _, err := range []error{err1, err2} {
			if st >= 300 && st <= 399 {
				var redirect *RedirectError
				if !errors.As(err, &redirect) || redirect.StatusCode != st || !utf8.ValidString(redirect.Error()) {
					t.Fatalf("HTTP %d gave %v, want a *RedirectError", st, err)
				}
				continue
			}
			if st >= 400 {
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("HTTP %d gave %v, want an *APIError", st, err)
				}
				if apiErr.StatusCode != st || !utf8.ValidString(apiErr.Error()) || !utf8.ValidString(apiErr.Message) {
					t.Fatalf("bad APIError %#v", apiErr)
				}
			}
			if err != nil && containsToken(err.Error()) {
				t.Fatalf("the token leaked into an error: %v", err)
			}
		}
		_ = IsTransient(err1)
		_, _ = parseRetryAfter(ra, timeZero)
	})
}

func containsToken(s string) bool { return strings.Contains(s, "secret-token") }

var timeZero = time.Unix(0, 0)

func abs(i int) int {
	if i < 0 {
		if i == -i { // math.MinInt
			return 0
		}
		return -i
	}
	return i
}
