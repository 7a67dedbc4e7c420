package clouddc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/testutil"
)

// Distinctive so that a test can assert that they never leak.
const (
	testAccessKey     = "AKTESTQTWAOYTTINDUT2"
	testSecretKey     = "sk-SECRET-MFyfvK41ba2giqM7-do-not-log"
	testSecurityToken = "st-SECRET-gQpjbi1ub3J0aC00-do-not-log"
)

// hmacHex and sha256Hex are the test's own primitives, so that expected
// values are not computed by the code under test.
func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestSign_huaweiPublishedExample checks each step against the worked
// example of Huawei's "API Request Signing Guide" (Constructing a Standard
// Request, Creating a To-Be-Signed String, Calculating the Signature): the
// VPC list request GET /v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&
// marker=13551d6b-755d-4757-b956-536f674975c0 at 20191115T033655Z, signed
// with SK MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc. The hashes and the
// signature are the guide's published values, not ours.
func TestSign_huaweiPublishedExample(t *testing.T) {
	t.Parallel()
	const (
		ak                = "QTWAOYTTINDUT2QVKYUC"
		sk                = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
		date              = "20191115T033655Z"
		wantCanonical     = "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\nlimit=2&marker=13551d6b-755d-4757-b956-536f674975c0\ncontent-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n\ncontent-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		wantHashedCR      = "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
		wantSignature     = "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
		wantAuthorization = "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
		wantStrToSign     = "SDK-HMAC-SHA256\n20191115T033655Z\n" + wantHashedCR
		publishedTarget   = "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"
	)
	// The guide's own numbers agree with each other under the test's
	// primitives: this pins the algorithm, independently of signer.go.
	if got := sha256Hex([]byte(wantCanonical)); got != wantHashedCR {
		t.Fatalf("the published canonical request hashes to %s, not the published %s: the test's transcription is wrong", got, wantHashedCR)
	}
	if got := hmacHex(sk, wantStrToSign); got != wantSignature {
		t.Fatalf("HMAC of the published string to sign = %s, not the published %s", got, wantSignature)
	}

	// Now the code under test, step by step.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, publishedTarget, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerSdkDate, date)
	names := []string{"content-type", "host", "x-sdk-date"}
	cr := canonicalRequest(req.Method, req.URL.EscapedPath(), req.URL.Query(), canonicalHeaders(req.Host, req.Header, names), names, nil)
	if cr != wantCanonical {
		t.Errorf("canonical request:\n%q\nwant\n%q", cr, wantCanonical)
	}
	sts := stringToSign(cr, date)
	if sts != wantStrToSign {
		t.Errorf("string to sign = %q; want %q", sts, wantStrToSign)
	}
	if got := signature(sk, sts); got != wantSignature {
		t.Errorf("signature = %s; want %s", got, wantSignature)
	}

	// And whole: sign() at the published time, without a project ID
	// header (the guide's request has none), gives the published header.
	k := &akskCredentials{accessKey: ak, secretKey: sk}
	req2, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, publishedTarget, nil)
	req2.Header.Set("Content-Type", "application/json")
	k.sign(req2, nil, "", time.Date(2019, 11, 15, 3, 36, 55, 0, time.UTC))
	if got := req2.Header.Get(headerSdkDate); got != date {
		t.Errorf("X-Sdk-Date = %q; want %q", got, date)
	}
	// Without a project ID there is no X-Project-Id to sign, which keeps
	// the guide's header list.
	if got := req2.Header.Get("Authorization"); got != wantAuthorization {
		t.Errorf("Authorization =\n%s\nwant\n%s", got, wantAuthorization)
	}
}

func TestURIEncode(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-._~", "AZaz09-._~"}, // RFC 3986 unreserved: kept
		{"a b", "a%20b"},             // space is %20, never +
		{"a+b", "a%2Bb"},
		{"a*b", "a%2Ab"}, // '*' is not unreserved
		{"a/b", "a%2Fb"},
		{"k:v@x", "k%3Av%40x"},
		{"100%", "100%25"},
		{"é", "%C3%A9"}, // UTF-8 bytes, upper-case hex
		{"running,stopped", "running%2Cstopped"},
	}
	for _, tc := range tests {
		if got := uriEncode(tc.in); got != tc.want {
			t.Errorf("uriEncode(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	t.Parallel()
	tests := []struct{ escapedPath, want string }{
		{"", "/"},
		{"/", "/"},
		{"/v1/p/instances", "/v1/p/instances/"}, // the trailing slash Huawei's signers add
		{"/v1/p/instances/", "/v1/p/instances/"},
		{"/v1/p/instances/" + testID + "/status", "/v1/p/instances/" + testID + "/status/"},
		// url.PathEscape leaves ':' alone; RFC 3986 encoding does not.
		{"/v1/p/instances/a:b", "/v1/p/instances/a%3Ab/"},
		// An escaped slash stays inside its segment.
		{"/v1/p/instances/a%2Fb", "/v1/p/instances/a%2Fb/"},
		{"/v1/p/x%20y", "/v1/p/x%20y/"},
	}
	for _, tc := range tests {
		if got := canonicalURI(tc.escapedPath); got != tc.want {
			t.Errorf("canonicalURI(%q) = %q; want %q", tc.escapedPath, got, tc.want)
		}
	}
}

func TestCanonicalQueryString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{"none", nil, ""},
		{"sorted by name", url.Values{"marker": {"m"}, "limit": {"10"}, "instance_state": {"running"}},
			"instance_state=running&limit=10&marker=m"},
		{"values of a name sorted", url.Values{"a": {"2", "10", "1"}}, "a=1&a=10&a=2"},
		{"encoded name and value", url.Values{"a b": {"c d+e"}, "x": {"1,2"}}, "a%20b=c%20d%2Be&x=1%2C2"},
		{"empty value", url.Values{"flag": {""}}, "flag="},
	}
	for _, tc := range tests {
		if got := canonicalQueryString(tc.q); got != tc.want {
			t.Errorf("%s: canonicalQueryString = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestSignedHeaderNames(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "x")
	if got := strings.Join(signedHeaderNames(h), ";"); got != "host;x-sdk-date" {
		t.Errorf("bare request signs %q; want host;x-sdk-date", got)
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Project-Id", testProject)
	h.Set("X-Security-Token", "st")
	if got := strings.Join(signedHeaderNames(h), ";"); got != "content-type;host;x-project-id;x-sdk-date;x-security-token" {
		t.Errorf("full request signs %q", got)
	}
}

func TestCanonicalHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Content-Type", "  application/json\t")
	h.Set("X-Sdk-Date", "20260314T070926Z")
	got := canonicalHeaders("clouddc.cn-east-3.myhuaweicloud.com", h, []string{"content-type", "host", "x-sdk-date"})
	want := "content-type:application/json\nhost:clouddc.cn-east-3.myhuaweicloud.com\nx-sdk-date:20260314T070926Z\n"
	if got != want {
		t.Errorf("canonicalHeaders = %q; want %q", got, want)
	}
}

func TestSigningHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"https://clouddc.cn-east-3.myhuaweicloud.com/v1", "clouddc.cn-east-3.myhuaweicloud.com"},
		{"https://clouddc.cn-east-3.myhuaweicloud.com:443/v1", "clouddc.cn-east-3.myhuaweicloud.com"},
		{"https://clouddc.example.com:8443/v1", "clouddc.example.com:8443"},
		{"http://127.0.0.1:8787/v1", "127.0.0.1:8787"},
		{"http://127.0.0.1:80/v1", "127.0.0.1"},
		{"https://[::1]:443/v1", "[::1]"},
		{"http://[::1]:8787/v1", "[::1]:8787"},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := signingHost(u); got != tc.want {
			t.Errorf("signingHost(%s) = %q; want %q", tc.url, got, tc.want)
		}
	}
}

// TestSign_deterministic: the same request at the same time signs the
// same; another second, another body or another key signs differently.
func TestSign_deterministic(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 14, 7, 9, 26, 0, time.UTC)
	auth := func(k akskCredentials, body string, at time.Time) string {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, "https://clouddc.cn-east-3.myhuaweicloud.com/v1/"+testProject+"/instances/password", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		k.sign(req, []byte(body), testProject, at)
		return req.Header.Get("Authorization")
	}
	k := akskCredentials{accessKey: testAccessKey, secretKey: testSecretKey}
	first := auth(k, `{"a":1}`, at)
	if again := auth(k, `{"a":1}`, at); again != first {
		t.Errorf("the same request signed twice:\n%s\n%s", first, again)
	}
	for name, other := range map[string]string{
		"a second later": auth(k, `{"a":1}`, at.Add(time.Second)),
		"another body":   auth(k, `{"a":2}`, at),
		"another key":    auth(akskCredentials{accessKey: testAccessKey, secretKey: testSecretKey + "x"}, `{"a":1}`, at),
	} {
		if other == first {
			t.Errorf("%s: the signature did not change", name)
		}
	}
	// The clock's zone does not matter: the date is UTC.
	if got := auth(k, `{"a":1}`, at.In(time.FixedZone("CST", 8*3600))); got != first {
		t.Errorf("a time in another zone signs differently")
	}
}

// TestClient_akskRequestHeaders signs a real request of the client and
// checks it against a signature the test computes by hand from what the
// server received.
func TestClient_akskRequestHeaders(t *testing.T) {
	t.Parallel()
	srv, rec := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"instances":[{"id":"` + testID + `"}]}`))
	})
	at := time.Date(2026, 3, 14, 7, 9, 26, 0, time.UTC)
	for _, st := range []string{"", testSecurityToken} {
		name := "permanent key"
		if st != "" {
			name = "temporary key"
		}
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(WithEndpoint(srv.URL), WithProjectID(testProject), WithAKSK(testAccessKey, testSecretKey, st), noRetry)
			if err != nil {
				t.Fatal(err)
			}
			c.now = func() time.Time { return at }
			before := rec.count()
			if err := c.ChangeInstancePassword(context.Background(), "New-Passw0rd", testID); err != nil {
				t.Fatalf("ChangeInstancePassword: %v", err)
			}
			if rec.count() != before+1 {
				t.Fatalf("%d requests; want 1", rec.count()-before)
			}
			r := rec.last(t)
			if v := r.Header.Values("X-Auth-Token"); len(v) != 0 {
				t.Errorf("X-Auth-Token = %q; an AK/SK client must not send one", v)
			}
			if got := r.Header.Get("X-Sdk-Date"); got != "20260314T070926Z" {
				t.Errorf("X-Sdk-Date = %q; want 20260314T070926Z", got)
			}
			if got := r.Header.Get("X-Project-Id"); got != testProject {
				t.Errorf("X-Project-Id = %q; want %q", got, testProject)
			}
			if got := r.Header.Get("X-Security-Token"); got != st {
				t.Errorf("X-Security-Token = %q; want %q", got, st)
			}
			host := strings.TrimPrefix(srv.URL, "http://")
			headers := "content-type;host;x-project-id;x-sdk-date"
			canonical := "content-type:application/json\nhost:" + host + "\nx-project-id:" + testProject + "\nx-sdk-date:20260314T070926Z\n"
			if st != "" {
				headers += ";x-security-token"
				canonical += "x-security-token:" + st + "\n"
			}
			cr := "PUT\n/v1/" + testProject + "/instances/password/\n\n" + canonical + "\n" + headers + "\n" + sha256Hex(r.Body)
			sig := hmacHex(testSecretKey, "SDK-HMAC-SHA256\n20260314T070926Z\n"+sha256Hex([]byte(cr)))
			want := "SDK-HMAC-SHA256 Access=" + testAccessKey + ", SignedHeaders=" + headers + ", Signature=" + sig
			if got := r.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestClient_akskQueryIsSigned: a GET with a query signs the sorted,
// encoded query and the empty body's hash, and no content-type.
func TestClient_akskQueryIsSigned(t *testing.T) {
	t.Parallel()
	srv, rec := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"instances":[],"count":0}`))
	})
	c, err := NewClient(WithEndpoint(srv.URL), WithProjectID(testProject), WithAKSK(testAccessKey, testSecretKey, ""), noRetry)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	if _, err := c.ListInstances(context.Background(), ListInstancesInput{Limit: 20, Marker: "m 1", State: StateRunning}); err != nil {
		t.Fatal(err)
	}
	r := rec.last(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	cr := "GET\n/v1/" + testProject + "/instances/\ninstance_state=running&limit=20&marker=m%201\n" +
		"host:" + host + "\nx-project-id:" + testProject + "\nx-sdk-date:20260102T030405Z\n\n" +
		"host;x-project-id;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	want := "SDK-HMAC-SHA256 Access=" + testAccessKey + ", SignedHeaders=host;x-project-id;x-sdk-date, Signature=" +
		hmacHex(testSecretKey, "SDK-HMAC-SHA256\n20260102T030405Z\n"+sha256Hex([]byte(cr)))
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization =\n%s\nwant\n%s", got, want)
	}
}

// TestClient_akskRetryResigns: each attempt carries its own date and a
// signature over it, so a retry after a long back-off is not stale.
func TestClient_akskRetryResigns(t *testing.T) {
	t.Parallel()
	var calls int
	var mu sync.Mutex
	srv, rec := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"state":"running"}`))
	})
	clock := time.Date(2026, 3, 14, 7, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	c, err := NewClient(WithEndpoint(srv.URL), WithProjectID(testProject), WithAKSK(testAccessKey, testSecretKey, ""),
		WithRetryPolicy(RetryPolicy{MaxRetries: 1}))
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		t := clock
		clock = clock.Add(20 * time.Minute) // each attempt 20 minutes later
		return t
	}
	if _, err := c.ShowInstanceStatus(context.Background(), testID); err != nil {
		t.Fatalf("ShowInstanceStatus: %v", err)
	}
	reqs := rec.all()
	if len(reqs) != 2 {
		t.Fatalf("%d requests; want 2", len(reqs))
	}
	if d0, d1 := reqs[0].Header.Get("X-Sdk-Date"), reqs[1].Header.Get("X-Sdk-Date"); d0 != "20260314T070000Z" || d1 != "20260314T072000Z" {
		t.Errorf("dates %q, %q; want 20260314T070000Z then 20260314T072000Z", d0, d1)
	}
	if reqs[0].Header.Get("Authorization") == reqs[1].Header.Get("Authorization") {
		t.Errorf("the retry reused the first attempt's signature")
	}
}

// TestClient_akskSecretsNeverLogged: neither the secret key nor the
// security token reaches a log line or an error, even on a 401.
func TestClient_akskSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	srv, _ := newRecordingServer(t, answer(http.StatusUnauthorized,
		`{"error_code":"iMetal.0003","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}`))
	var buf testutil.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := NewClient(WithEndpoint(srv.URL), WithProjectID(testProject), WithAKSK(testAccessKey, testSecretKey, testSecurityToken),
		WithLogger(logger), noRetry)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ShowInstanceStatus(context.Background(), testID)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "iMetal.0003" {
		t.Fatalf("error = %v; want the API's 401 iMetal.0003", err)
	}
	if !strings.Contains(buf.String(), "CloudDC request") {
		t.Fatalf("nothing was logged; the test would prove nothing: %q", buf.String())
	}
	for _, secret := range []string{testSecretKey, testSecurityToken} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("a secret is in the log: %s", buf.String())
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("a secret is in the error: %v", err)
		}
	}
}
