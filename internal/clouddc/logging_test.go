package clouddc

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/testutil"
)

func TestClient_logging(t *testing.T) {
	t.Parallel()
	srv, _ := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			w.Header().Set("X-Request-Id", "req-del-401")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":"iMetal.0003","error_msg":"Authentication failed"}`))
		case r.Method == http.MethodPost:
			_, _ = w.Write([]byte(`{"instance_id":"` + testID + `"}`))
		case strings.HasSuffix(r.URL.Path, "/instances"):
			w.Header().Set("X-Request-Id", "req-status-200")
			_, _ = w.Write([]byte(`{"instances":[{"id":"` + testID + `","state":"running","operation_state":"install-succeed"}],"count":1}`))
		default:
			w.Header().Set("X-Request-Id", "req-status-200")
			_, _ = w.Write([]byte(`{"state":"running","operation_state":"install-succeed"}`))
		}
	})
	var buf testutil.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, srv.URL, WithLogger(logger))
	ctx := context.Background()

	if _, err := c.CreateInstanceByHand(ctx, CreateInstanceInput{Name: "web-1", Password: testPassword}); err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	if _, err := c.ShowInstanceStatus(ctx, testID); err != nil {
		t.Fatalf("ShowInstanceStatus: %v", err)
	}
	if _, err := c.WaitForInstanceRunning(ctx, testID); err != nil {
		t.Fatalf("WaitForInstanceRunning: %v", err)
	}
	if err := c.DeleteInstance(ctx, testID); err == nil {
		t.Fatal("DeleteInstance succeeded; want the 401")
	}
	if _, err := c.ListInstances(ctx, ListInstancesInput{Marker: "m-1", Limit: 10}); err != nil {
		t.Fatalf("ListInstances: %v", err)
	}

	// A transport failure and a transient poll failure log too.
	down := newTestClient(t, closedPortURL(t), WithLogger(logger))
	if _, err := down.ShowInstanceStatus(ctx, testID); err == nil {
		t.Fatal("a request to a closed port succeeded")
	}
	flaky := newScriptServer(t, step{status: http.StatusServiceUnavailable, body: "busy"}, statusOK("running", "install-succeed"))
	if _, err := newTestClient(t, flaky.url, WithLogger(logger)).WaitForInstanceRunning(testContext(t), testID); err != nil {
		t.Fatalf("WaitForInstanceRunning through a 503: %v", err)
	}

	out := buf.String()
	base := "/v1/" + testProject + "/instances"
	for _, want := range []string{
		"method=POST path=" + base + " ",
		"method=GET path=" + base + "/" + testID + "/status ",
		"method=DELETE path=" + base + "/" + testID + " ",
		"status=200",
		"status=401",
		"status=503",
		"request_id=req-del-401",
		"request_id=req-status-200",
		"query=\"limit=10&marker=m-1\"",
		"CloudDC request failed",
		"connection refused",
		"instance_id=" + testID,
		"state=running",
		"polling the instance failed; will poll again",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not contain %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{testToken, testPassword} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains the secret %q:\n%s", secret, out)
		}
	}
	if n := strings.Count(out, "msg=\"CloudDC request\""); n < 6 {
		t.Errorf("the log has %d request lines; want one per answered request (at least 6):\n%s", n, out)
	}
}

func TestClient_loggingDiscardedByDefault(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "https://clouddc.example.com")
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelWarn, slog.LevelError} {
		if c.logger.Handler().Enabled(context.Background(), level) {
			t.Errorf("the default logger is enabled at %v; want it to discard everything", level)
		}
	}
}

// ctxKey tags a context for TestClient_sweepLogsUnderTheBackgroundContext.
type ctxKey struct{}

// whoHandler records, for each log record, its message and the tag of the
// context it was logged under.
type whoHandler struct {
	mu   *sync.Mutex
	seen *[][2]string
}

func (h whoHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h whoHandler) Handle(ctx context.Context, r slog.Record) error {
	who, _ := ctx.Value(ctxKey{}).(string)
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.seen = append(*h.seen, [2]string{r.Message, who})
	return nil
}
func (h whoHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h whoHandler) WithGroup(string) slog.Handler      { return h }

// TestClient_sweepLogsUnderTheBackgroundContext: the shared sweep serves
// every wait, so its requests must not be logged under the context (in
// Terraform, the instance_id) of whichever wait started it.
func TestClient_sweepLogsUnderTheBackgroundContext(t *testing.T) {
	t.Parallel()
	srv, _ := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		ids := strings.Split(r.URL.Query().Get("instance_id"), ",")
		var items []string
		for _, id := range ids {
			items = append(items, `{"id":"`+id+`","state":"running","operation_state":"install-succeed"}`)
		}
		//nolint:gosec // G705: a test server answering JSON to the client under test
		_, _ = w.Write([]byte(`{"instances":[` + strings.Join(items, ",") + `],"count":` + fmt.Sprint(len(items)) + `}`))
	})
	var mu sync.Mutex
	var seen [][2]string
	bg := context.WithValue(context.Background(), ctxKey{}, "background")
	c := newTestClient(t, srv.URL, WithLogger(slog.New(whoHandler{&mu, &seen})), WithBackgroundContext(bg))
	a := context.WithValue(testContext(t), ctxKey{}, "wait-a")
	b := context.WithValue(testContext(t), ctxKey{}, "wait-b")
	other := "22222222-2222-4333-8444-555555555555"
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = c.WaitForInstanceRunning(a, testID) })
	wg.Go(func() { _, _ = c.WaitForInstanceRunning(b, other) })
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	requests := 0
	for _, s := range seen {
		if s[0] == "CloudDC request" {
			requests++
			if s[1] != "background" {
				t.Errorf("a sweep request was logged under %q; want the background context", s[1])
			}
		}
	}
	if requests == 0 {
		t.Fatalf("no request was logged: %v", seen)
	}
}
