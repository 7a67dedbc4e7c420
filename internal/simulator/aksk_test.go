package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

// The tests sign with a little signer of their own, written from Huawei's
// API Request Signing Guide, so that neither aksk.go nor the client's
// signer decides what a correct signature is. The client's signatures are
// checked against the simulator in internal/clouddc (this package must not
// import the client).

const (
	testAK    = "SIMTESTAK0000000001"
	testSK    = "sim-test-secret-key-0001"
	tempAK    = "SIMTESTAKTEMPORARY01"
	tempSK    = "sim-test-temporary-secret"
	tempToken = "sim-test-security-token-gQpjbi1ub3J0aC00"
)

// signedReq is a request to sign with testSign.
type signedReq struct {
	method, path, rawQuery, body string
	ak, sk, securityToken        string
	date                         time.Time
	// signed lists the headers to sign; nil means the usual set.
	signed []string
}

// testSign builds the request and its Authorization header: canonical
// request, string to sign and HMAC, spelled out step by step.
func testSign(t *testing.T, base string, s signedReq) *http.Request {
	t.Helper()
	target := base + s.path
	if s.rawQuery != "" {
		target += "?" + s.rawQuery
	}
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), s.method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	date := s.date.UTC().Format("20060102T150405Z")
	req.Header.Set("X-Sdk-Date", date)
	if s.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.securityToken != "" {
		req.Header.Set("X-Security-Token", s.securityToken)
	}
	signed := s.signed
	if signed == nil {
		signed = []string{"host", "x-sdk-date"}
		if s.body != "" {
			signed = append(signed, "content-type")
		}
		if s.securityToken != "" {
			signed = append(signed, "x-security-token")
		}
		sort.Strings(signed)
	}
	// The URIs and queries of these tests hold only unreserved characters
	// plus '=' and '&', so the canonical forms are simple to write.
	uri := s.path + "/"
	params := strings.Split(s.rawQuery, "&")
	if s.rawQuery == "" {
		params = nil
	}
	sort.Strings(params)
	var headers strings.Builder
	for _, h := range signed {
		v := req.Header.Get(h)
		if h == "host" {
			v = req.URL.Host
		}
		headers.WriteString(h + ":" + v + "\n")
	}
	bodyHash := sha256.Sum256([]byte(s.body))
	canonical := strings.Join([]string{s.method, uri, strings.Join(params, "&"), headers.String(),
		strings.Join(signed, ";"), hex.EncodeToString(bodyHash[:])}, "\n")
	crHash := sha256.Sum256([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(s.sk))
	mac.Write([]byte("SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(crHash[:])))
	req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+s.ak+", SignedHeaders="+strings.Join(signed, ";")+
		", Signature="+hex.EncodeToString(mac.Sum(nil)))
	return req
}

func sendSigned(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	b, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// startAKSKSim is a simulator on a fake clock with a permanent key of the
// default project, a temporary key, and a key of another project.
func startAKSKSim(t *testing.T) (*TestServer, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	sim := StartTest(t, Options{Now: clock.Now, AccessKeys: map[string]AccessKey{
		testAK:         {Secret: testSK},
		tempAK:         {Secret: tempSK, SecurityToken: tempToken},
		"SIMOTHERAK01": {Secret: "other-secret", ProjectID: "ffffffffffffffffffffffffffffffff"},
	}})
	return sim, clock
}

func TestAKSK_acceptsCorrectSignatures(t *testing.T) {
	t.Parallel()
	sim, clock := startAKSKSim(t)
	base := "/v1/" + DefaultProjectID + "/instances"

	// A create: a body, signed with its content type.
	r := sendSigned(t, testSign(t, sim.URL, signedReq{method: http.MethodPost, path: base, body: bodyWith(nil),
		ak: testAK, sk: testSK, date: clock.Now()}))
	created := decode[struct {
		ID string `json:"instance_id"`
	}](t, r, http.StatusOK)
	if !contractUUID.MatchString(created.ID) {
		t.Fatalf("instance_id = %q", created.ID)
	}
	// A list with a query, its parameters sent out of order.
	r = sendSigned(t, testSign(t, sim.URL, signedReq{method: http.MethodGet, path: base, rawQuery: "limit=20&instance_id=" + created.ID,
		ak: testAK, sk: testSK, date: clock.Now()}))
	if l := decode[wireList](t, r, http.StatusOK); l.Count != 1 || l.Instances[0].ID != created.ID {
		t.Errorf("list = %+v; want the created instance", l)
	}
	// A temporary key, with its security token signed.
	r = sendSigned(t, testSign(t, sim.URL, signedReq{method: http.MethodGet, path: base + "/" + created.ID + "/status",
		ak: tempAK, sk: tempSK, securityToken: tempToken, date: clock.Now()}))
	if st := decode[wireStatus](t, r, http.StatusOK); st.State != "running" {
		t.Errorf("state = %q; want running", st.State)
	}
	// Dates up to 15 minutes either side of the simulator's clock pass.
	for _, skew := range []time.Duration{-14 * time.Minute, 14 * time.Minute} {
		r = sendSigned(t, testSign(t, sim.URL, signedReq{method: http.MethodGet, path: base, ak: testAK, sk: testSK, date: clock.Now().Add(skew)}))
		if r.Status != http.StatusOK {
			t.Errorf("a date %v from the clock: status %d, want 200: %s", skew, r.Status, r.Body)
		}
	}
	// The token still works beside the keys.
	c := &apiClient{t: t, base: sim.URL, project: DefaultProjectID, token: DefaultToken}
	if l := c.list(""); l.Count != 1 {
		t.Errorf("token list count = %d; want 1", l.Count)
	}
}

func TestAKSK_rejectsBadSignatures(t *testing.T) {
	t.Parallel()
	sim, clock := startAKSKSim(t)
	base := "/v1/" + DefaultProjectID + "/instances"
	good := func() signedReq {
		return signedReq{method: http.MethodPost, path: base, body: bodyWith(nil), ak: testAK, sk: testSK, date: clock.Now()}
	}
	goodGet := func() signedReq {
		return signedReq{method: http.MethodGet, path: base, rawQuery: "limit=10", ak: testAK, sk: testSK, date: clock.Now()}
	}
	tests := []struct {
		name    string
		req     func() *http.Request
		status  int
		code    string
		msgPart string
	}{
		{"wrong secret key", func() *http.Request {
			s := good()
			s.sk = "not-the-secret"
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "verify aksk signature fail"},
		{"body changed after signing", func() *http.Request {
			req := testSign(t, sim.URL, good())
			changed := bodyWith(func(b map[string]any) { b["name"] = "web-02" })
			req.Body = io.NopCloser(strings.NewReader(changed))
			req.ContentLength = int64(len(changed))
			return req
		}, 401, "iMetal.0003", "verify aksk signature fail"},
		{"query changed after signing", func() *http.Request {
			req := testSign(t, sim.URL, goodGet())
			req.URL.RawQuery = "limit=20"
			return req
		}, 401, "iMetal.0003", "verify aksk signature fail"},
		{"query added after signing", func() *http.Request {
			req := testSign(t, sim.URL, goodGet())
			req.URL.RawQuery = "limit=10&instance_state=running"
			return req
		}, 401, "iMetal.0003", "verify aksk signature fail"},
		{"method changed after signing", func() *http.Request {
			req := testSign(t, sim.URL, goodGet())
			req.Method = http.MethodDelete
			req.URL.Path = base + "/" + unknownID
			return req
		}, 401, "iMetal.0003", "verify aksk signature fail"},
		{"signed header changed after signing", func() *http.Request {
			req := testSign(t, sim.URL, good())
			req.Header.Set("Content-Type", "text/plain")
			return req
		}, 401, "iMetal.0003", "verify aksk signature fail"},
		{"stale date", func() *http.Request {
			s := good()
			s.date = clock.Now().Add(-16 * time.Minute)
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "signature expired"},
		{"date far in the future", func() *http.Request {
			s := good()
			s.date = clock.Now().Add(16 * time.Minute)
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "signature expired"},
		{"date header replaced after signing", func() *http.Request {
			req := testSign(t, sim.URL, good())
			req.Header.Set("X-Sdk-Date", clock.Now().Add(time.Minute).UTC().Format("20060102T150405Z"))
			return req
		}, 401, "iMetal.0003", "verify aksk signature fail"},
		{"date not in the basic format", func() *http.Request {
			req := testSign(t, sim.URL, good())
			req.Header.Set("X-Sdk-Date", clock.Now().UTC().Format(time.RFC3339))
			return req
		}, 401, "iMetal.0003", "X-Sdk-Date"},
		{"unknown access key", func() *http.Request {
			s := good()
			s.ak = "NOSUCHAK"
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "access key (AK) does not exist"},
		{"host not signed", func() *http.Request {
			s := good()
			s.signed = []string{"content-type", "x-sdk-date"}
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "must include host and x-sdk-date"},
		{"date not signed", func() *http.Request {
			s := good()
			s.signed = []string{"content-type", "host"}
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "must include host and x-sdk-date"},
		{"malformed Authorization", func() *http.Request {
			req := testSign(t, sim.URL, good())
			req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+testAK+" Signature=00")
			return req
		}, 401, "iMetal.0003", "Authorization header"},
		{"signature not hex", func() *http.Request {
			req := testSign(t, sim.URL, good())
			req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+testAK+", SignedHeaders=content-type;host;x-sdk-date, Signature=zz")
			return req
		}, 401, "iMetal.0003", "verify aksk signature fail"},
		{"temporary key without its security token", func() *http.Request {
			s := good()
			s.ak, s.sk = tempAK, tempSK
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "security token"},
		{"temporary key with a wrong security token", func() *http.Request {
			s := good()
			s.ak, s.sk, s.securityToken = tempAK, tempSK, "another-token"
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "security token"},
		{"temporary key with the security token unsigned", func() *http.Request {
			s := good()
			s.ak, s.sk, s.securityToken = tempAK, tempSK, tempToken
			s.signed = []string{"content-type", "host", "x-sdk-date"}
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "security token"},
		{"permanent key with a security token", func() *http.Request {
			s := good()
			s.securityToken = tempToken
			return testSign(t, sim.URL, s)
		}, 401, "iMetal.0003", "permanent access key"},
		{"key of another project", func() *http.Request {
			s := good()
			s.ak, s.sk = "SIMOTHERAK01", "other-secret"
			return testSign(t, sim.URL, s)
		}, 403, "iMetal.0004", DefaultProjectID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sendSigned(t, tc.req())
			e := wantError(t, r, tc.status, tc.code)
			if !strings.Contains(e.Msg, tc.msgPart) {
				t.Errorf("error_msg %q does not contain %q", e.Msg, tc.msgPart)
			}
			if tc.status == 401 && !strings.HasPrefix(e.Msg, "Incorrect IAM authentication information: ") {
				t.Errorf("error_msg %q is not worded as the gateway's", e.Msg)
			}
			for _, secret := range []string{testSK, tempSK, tempToken} {
				if strings.Contains(string(r.Body), secret) {
					t.Errorf("the answer reveals a secret: %s", r.Body)
				}
			}
		})
	}
	if n := len(sim.Instances()); n != 0 {
		t.Errorf("refused requests created %d instances", n)
	}
}

// TestAKSK_clockMoves: a signature that was good goes stale once the
// simulator's clock is more than 15 minutes past its date.
func TestAKSK_clockMoves(t *testing.T) {
	t.Parallel()
	sim, clock := startAKSKSim(t)
	s := signedReq{method: http.MethodGet, path: "/v1/" + DefaultProjectID + "/instances", ak: testAK, sk: testSK, date: clock.Now()}
	if r := sendSigned(t, testSign(t, sim.URL, s)); r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	clock.Advance(SignatureMaxSkew)
	if r := sendSigned(t, testSign(t, sim.URL, s)); r.Status != http.StatusOK {
		t.Fatalf("at exactly 15 minutes: status %d, want 200: %s", r.Status, r.Body)
	}
	clock.Advance(time.Second)
	e := wantError(t, sendSigned(t, testSign(t, sim.URL, s)), http.StatusUnauthorized, "iMetal.0003")
	if !strings.HasSuffix(e.Msg, "signature expired") {
		t.Errorf("error_msg %q; want it to end in \"signature expired\"", e.Msg)
	}
}

// TestAKSK_huaweiPublishedExample runs the verification on the worked
// example of Huawei's signing guide: the VPC list request signed at
// 20191115T033655Z with SK MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc, whose
// published signature is 7be66680…6ebe.
func TestAKSK_huaweiPublishedExample(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet,
		"https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Sdk-Date", "20191115T033655Z")
	req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, "+
		"Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe")
	const published = "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\nlimit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n" +
		"content-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n\n" +
		"content-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := akskCanonicalRequest(req, []string{"content-type", "host", "x-sdk-date"}, nil); got != published {
		t.Errorf("canonical request:\n%q\nwant\n%q", got, published)
	}
	at := time.Date(2019, 11, 15, 3, 40, 0, 0, time.UTC)
	sim, err := New(Options{ProjectID: "77b6a44cba5143ab91d13ab9a8ff44fd", Now: func() time.Time { return at },
		AccessKeys: map[string]AccessKey{"QTWAOYTTINDUT2QVKYUC": {Secret: "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"}}})
	if err != nil {
		t.Fatal(err)
	}
	sim.mu.Lock()
	who, apiErr := sim.authenticateAKSKLocked(req, nil)
	sim.mu.Unlock()
	if apiErr != nil || who.project != "77b6a44cba5143ab91d13ab9a8ff44fd" {
		t.Errorf("the published example: project %q, error %+v; want it accepted", who.project, apiErr)
	}
}

func TestRFC3986(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"AZaz09-._~": "AZaz09-._~", "a b": "a%20b", "a+b": "a%2Bb", "a:b/c": "a%3Ab%2Fc", "é": "%C3%A9", "*": "%2A",
	} {
		if got := rfc3986(in); got != want {
			t.Errorf("rfc3986(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestAKSK_canonicalQueryAndPath(t *testing.T) {
	t.Parallel()
	// '+' in a query is a space on the wire (form encoding), and signs as
	// %20; an escaped ':' in the path signs the same as a bare one.
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "http://127.0.0.1:8787/v1/p/x%3Ay?b=2&a=x+y&a=w&c=%2A", nil)
	got := akskCanonicalRequest(req, []string{"host"}, nil)
	want := "GET\n/v1/p/x%3Ay/\na=w&a=x%20y&b=2&c=%2A\nhost:127.0.0.1:8787\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got != want {
		t.Errorf("canonical request:\n%q\nwant\n%q", got, want)
	}
	req2 := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "http://127.0.0.1:8787/v1/p/x:y?c=*&a=w&b=2&a=x%20y", nil)
	if got2 := akskCanonicalRequest(req2, []string{"host"}, nil); got2 != want {
		t.Errorf("an equivalent spelling canonicalises differently:\n%q\n%q", got2, want)
	}
}

func TestNew_rejectsInvalidAccessKeys(t *testing.T) {
	t.Parallel()
	for name, keys := range map[string]map[string]AccessKey{
		"empty AK":      {"": {Secret: "s"}},
		"AK with comma": {"A,B": {Secret: "s"}},
		"no secret":     {"AK": {}},
	} {
		if _, err := New(Options{AccessKeys: keys}); err == nil || !strings.Contains(err.Error(), "access key") {
			t.Errorf("%s: New error = %v; want one about the access key", name, err)
		}
	}
	sim, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.AddAccessKey("AK", AccessKey{}); err == nil {
		t.Errorf("AddAccessKey without a secret succeeded")
	}
	if err := sim.AddAccessKey("AK", AccessKey{Secret: "s"}); err != nil {
		t.Errorf("AddAccessKey: %v", err)
	}
}
