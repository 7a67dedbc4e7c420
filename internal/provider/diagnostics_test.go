package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// checkContains fails the test unless text has every string of want and
// none of notWant.
func checkContains(t *testing.T, text string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the text lacks %q:\n%s", w, text)
		}
	}
	for _, w := range notWant {
		if strings.Contains(text, w) {
			t.Errorf("the text has %q:\n%s", w, text)
		}
	}
}

// TestDescribeError_unauthorized: a refused token gets token advice, a
// refused signature key advice, and neither the other's.
func TestDescribeError_unauthorized(t *testing.T) {
	t.Parallel()
	refused := func(auth clouddc.AuthMethod, code, msg string) error {
		return &clouddc.APIError{StatusCode: 401, Code: code, Message: msg, Method: "GET", Path: "/v1/p/physicalservers", Auth: auth}
	}
	tests := []struct {
		name      string
		err       error
		want, not []string
	}{
		{"token", refused(clouddc.AuthToken, "iMetal.0003", "decrypt token fail"),
			[]string{"token is invalid or has expired", "24 hours", "POST /v3/auth/tokens", EnvToken, EnvHWAuthToken},
			[]string{"secret key", EnvSecretKey, "signature"}},
		{"access key pair", refused(clouddc.AuthAccessKey, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail"),
			[]string{"APIGW.0301", "signature was refused", "secret key does not belong to the access key", "ak not exist",
				"clock", "five minutes", EnvAccessKey, EnvSecretKey, "My Credentials > Access Keys"},
			[]string{"POST /v3/auth/tokens", "token is invalid", EnvSecurityToken}},
		{"temporary access key pair", refused(clouddc.AuthTemporaryAccessKey, "APIGW.0301", "Incorrect IAM authentication information: ..."),
			[]string{"signature was refused", "security_token it was issued with", EnvSecurityToken},
			[]string{"POST /v3/auth/tokens"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkContains(t, describeError(tc.err), tc.want, tc.not)
		})
	}
}

func TestDescribeError(t *testing.T) {
	t.Parallel()
	apiErr := func(status int, code, msg string) error {
		return fmt.Errorf("wrapped: %w", &clouddc.APIError{
			StatusCode: status, Code: code, Message: msg, RequestID: "req-42",
			Method: "DELETE", Path: "/v1/p/instances/i-1",
		})
	}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"not found", apiErr(404, "iMetal.0200", "Instances not found: [i-1]"),
			[]string{"DELETE /v1/p/instances/i-1", "HTTP 404 (Not Found)", "error_code: iMetal.0200", "error_msg:  Instances not found: [i-1]", "request ID: req-42"}},
		{"unauthorized, credentials unknown", apiErr(401, "iMetal.0003", "token expired"),
			[]string{"HTTP 401", "iMetal.0003", "invalid or has expired", "24 hours", EnvToken, "secret_key", "security_token", "clock"}},
		{"forbidden", apiErr(403, "iMetal.0004", "denied"),
			[]string{"HTTP 403", "clouddc:instance:*", "project_id"}},
		{"rate limited with a plain-text body", apiErr(429, "", "Too Many Requests"),
			[]string{"HTTP 429", "error_code: (none)", "Too Many Requests", "-parallelism"}},
		{"server error", apiErr(503, "iMetal.0099", "internal"),
			[]string{"HTTP 503", "Run the command again", "request ID"}},
		{"server not ready", apiErr(400, "iMetal.0101", "Physical server x is not in state ready"),
			[]string{"iMetal.0101", "server_id unset"}},
		{"server not found", apiErr(404, "iMetal.0100", "Physical server not found: x"),
			[]string{"iMetal.0100", "Check server_id"}},
		{"invalid state", apiErr(400, "iMetal.0201", "state"),
			[]string{"iMetal.0201", "current operation ends"}},
		{"bad request", apiErr(400, "iMetal.0001", "Invalid parameter: name"),
			[]string{"iMetal.0001", "Invalid parameter: name", "error_msg names it"}},
		{"create failed", &clouddc.InstanceFailedError{InstanceID: "i-1", Goal: "become running", State: clouddc.StateError,
			OperationState: "install-failed", Detail: &clouddc.InstanceError{Code: "iMetal.0099", Message: "BMC timeout", Type: clouddc.ErrorTypeCreate}},
			[]string{"Instance i-1 failed to become running", "install-failed", "error_type: create_instance_error", "error_code: iMetal.0099", "BMC timeout", "tainted",
				"deletion_protection = true the replacement is refused: run terraform untaint"}},
		{"delete failed", &clouddc.InstanceFailedError{InstanceID: "i-1", Goal: "be terminated", State: clouddc.StateError,
			Detail: &clouddc.InstanceError{Code: "iMetal.0099", Message: "wipe failed", Type: clouddc.ErrorTypeDelete}},
			[]string{"delete_instance_error", "wipe failed", "stays in the Terraform state", "again"}},
		{"failed without details", &clouddc.InstanceFailedError{InstanceID: "i-1", Goal: "become running", State: clouddc.StateError},
			[]string{"no error details", "tainted"}},
		{"reinstall failed", &clouddc.InstanceFailedError{InstanceID: "i-1", Goal: "finish reinstalling its OS", State: clouddc.StateError,
			Detail: &clouddc.InstanceError{Code: "iMetal.0099", Message: "image broken", Type: clouddc.ErrorTypeReinstall}},
			[]string{"reinstall_error", "keeps the image", "tries the reinstall again"}},
		{"IP change failed", &clouddc.InstanceFailedError{InstanceID: "i-1", Goal: "finish changing its IP addresses", State: clouddc.StateError,
			Detail: &clouddc.InstanceError{Code: "iMetal.0099", Message: "switch", Type: clouddc.ErrorTypeModifyIP}},
			[]string{"modify_ip_error", "tries the change again", "network_interfaces"}},
		{"power change failed", &clouddc.InstanceFailedError{InstanceID: "i-1", Goal: "stop", State: clouddc.StateError},
			[]string{"what is left to do", "console"}},
		{"timeout", &clouddc.WaitError{InstanceID: "i-1", Goal: "be terminated", LastState: clouddc.StateShuttingDown,
			LastOperationState: "uninstall-processing", Err: context.DeadlineExceeded},
			[]string{"i-1", "timed out", `"shutting-down"`, "uninstall-processing", "timeouts {"}},
		{"cancelled", &clouddc.WaitError{InstanceID: "i-1", Goal: "become running", Err: context.Canceled},
			[]string{"was cancelled", "interrupted", "again"}},
		{"unknown state", &clouddc.UnexpectedStateError{InstanceID: "i-1", Goal: "become running", State: "hibernating",
			Expected: []clouddc.State{clouddc.StatePending, clouddc.StateRunning}},
			[]string{`"hibernating"`, "does not know", "pending, running", "newer version"}},
		{"network", fmt.Errorf("clouddc: GET /x: %w", &url.Error{Op: "Get", URL: "https://h/x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}),
			[]string{"connection refused", "network problem"}},
		{"other", errors.New("something odd"), []string{"something odd"}},
		{"incomplete listing", &clouddc.IncompleteListingError{Method: "GET", Path: "/v1/p/instances", RequestID: "req-7", Reason: `the "instances" list is missing or null`},
			[]string{"not complete", "req-7", "nothing was removed from the state", "again"}},
		{"redirect", &clouddc.RedirectError{Method: "POST", Path: "/v1/p/instances", StatusCode: 307, Location: "http://evil.example:8080"},
			[]string{"HTTP 307", "http://evil.example:8080", "does not redirect", "not followed", "endpoint argument"}},
		{"too large", &clouddc.ResponseTooLargeError{Method: "GET", Path: "/v1/p/instances", StatusCode: 200, Limit: clouddc.MaxResponseBody},
			[]string{"more than 32 MiB", "not read"}},
		{"retries spent", &clouddc.RetriesExhaustedError{Retries: 10, Elapsed: 92 * time.Second, Err: &clouddc.APIError{StatusCode: 503, Code: "iMetal.0099", Message: "busy"}},
			[]string{"HTTP 503", "busy", "retried the request 10 times over 1m32s", "max_retries"}},
		{"not retried", &clouddc.RetriesExhaustedError{Err: &clouddc.APIError{StatusCode: 503, Code: "iMetal.0099", Message: "busy"}},
			[]string{"HTTP 503", "not retried because max_retries is 0"}},
		{"create outcome unknown", fmt.Errorf("x: %w", &clouddc.OutcomeUnknownError{Method: "POST", Path: "/v1/p/instances",
			Err: &clouddc.APIError{StatusCode: 503, Code: "iMetal.0099", Message: "internal"}}),
			[]string{"outcome of POST /v1/p/instances is unknown", "HTTP 503", "console", "terraform import"}},
		{"create made nothing, no retries left", &clouddc.CreateNotMadeError{Window: time.Minute, MaxRetries: 0,
			Err: &clouddc.OutcomeUnknownError{Method: "POST", Path: "/v1/p/instances", Err: &clouddc.APIError{StatusCode: 503, Method: "POST", Path: "/v1/p/instances"}}},
			[]string{"HTTP 503", "it made no instance", "max_retries = 0", "running the command again is safe", "raise max_retries"}},
		{"create uncertain, nothing found", &clouddc.CreateUncertainError{Name: "web", Token: "tok123", Reason: "no listing could be read",
			Err: &clouddc.APIError{StatusCode: 504, Method: "POST", Path: "/v1/p/instances"}},
			[]string{`creating instance "web": no listing could be read`, "HTTP 504", clouddc.CreateTokenKey + " = tok123",
				"did not send the create again", "Nothing was saved", "terraform import ADDRESS INSTANCE_ID", "create_token"}},
		{"create uncertain, it may still appear", &clouddc.CreateUncertainError{Name: "web", Token: "tok123", Reason: "it was interrupted",
			Deadline: time.Date(2026, 12, 6, 11, 0, 0, 0, time.UTC)},
			[]string{"provisional object", "tainted", clouddc.CreateTokenKey + " = tok123", "waits until 2026-12-06T11:00:00Z",
				"Nothing creates a second instance"}},
		{"create uncertain, one instance carries the token", &clouddc.CreateUncertainError{Name: "web", Token: "tok123", Reason: "it differs",
			InstanceID: "i-9", Candidates: []string{"i-9"}},
			[]string{"Instance i-9 carries this create's token", "tainted", "terraform untaint ADDRESS"}},
		{"create uncertain, several carry the token", &clouddc.CreateUncertainError{Name: "web", Token: "tok123", Reason: "they differ",
			Candidates: []string{"i-8", "i-9"}},
			[]string{"i-8, i-9", "terraform import ADDRESS i-8", "delete the others"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := describeError(tc.err)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("description lacks %q:\n%s", w, got)
				}
			}
			// Terraform taints only a resource whose create failed.
			var failed *clouddc.InstanceFailedError
			if errors.As(tc.err, &failed) && failed.Goal != "become running" && strings.Contains(got, "tainted") {
				t.Errorf("a failed %q is described as tainted:\n%s", failed.Goal, got)
			}
		})
	}
}

// A create whose wait ends early leaves a tainted instance: the detail must
// offer terraform untaint before the replacement, and never promise that
// running the command again picks the wait up (it replaces the instance).
func TestCreateWaitDetail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		want    []string
		notWant []string
	}{
		{"ctrl-c", context.Canceled,
			[]string{"was cancelled", "i-1 exists", "tainted", "terraform untaint clouddc_instance.web", "second full install",
				"deletion_protection = true that replacement is refused"},
			[]string{"pick up where", "timeouts {"}},
		{"timeout", context.DeadlineExceeded,
			[]string{"timed out", "terraform untaint", "second full install", "timeouts {", `create = "60m"`},
			[]string{"pick up where"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := createWaitDetail(&clouddc.WaitError{InstanceID: "i-1", Goal: "become running", LastState: clouddc.StatePending, Err: tc.err})
			checkContains(t, got, tc.want, tc.notWant)
			if u, r := strings.Index(got, "untaint"), strings.Index(got, "replaces it"); u < 0 || r < 0 || u > r {
				t.Errorf("terraform untaint must come before the replacement:\n%s", got)
			}
		})
	}
}

func TestAddClientError(t *testing.T) {
	t.Parallel()
	var diags diag.Diagnostics
	addClientError(&diags, "Unable to Delete Instance", &clouddc.APIError{StatusCode: 500, Code: "iMetal.0099", Message: "boom"})
	if diags.ErrorsCount() != 1 || diags[0].Summary() != "Unable to Delete Instance" || !strings.Contains(diags[0].Detail(), "boom") {
		t.Fatalf("unexpected diagnostics: %v", diags)
	}
}
