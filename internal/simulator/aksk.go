package simulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AK/SK authentication: the simulator checks requests signed with Huawei
// Cloud's SDK-HMAC-SHA256 algorithm (the "API Request Signing Guide"), as
// the API gateway in front of CloudDC does. This is written from the
// published algorithm and shares nothing with the client's signer, so that
// a misreading of the algorithm on either side fails the cross-check test.

// AccessKey is an access key's secret and what it may do. Options.AccessKeys
// and AddAccessKey map access key IDs (AKs) to them.
type AccessKey struct {
	// Secret is the secret key (SK) that signs requests.
	Secret string
	// ProjectID is the project the key may use (default:
	// Options.ProjectID); any other project answers 403.
	ProjectID string
	// SecurityToken makes the key a temporary one: every request must send
	// this value as X-Security-Token and sign that header. Empty means a
	// permanent key, which must not send one.
	SecurityToken string
	// Scope is what the key's policy grants (projects.go); the zero value
	// grants everything.
	Scope TokenScope
}

// SignatureMaxSkew is how far X-Sdk-Date may be from the simulator's clock
// before a signature counts as expired, as at Huawei Cloud's API gateway.
const SignatureMaxSkew = 15 * time.Minute

const (
	akskScheme     = "SDK-HMAC-SHA256"
	akskDateLayout = "20060102T150405Z"
	// akskMsg begins the messages of AK/SK failures, worded as Huawei's
	// gateway words them.
	akskMsg = "Incorrect IAM authentication information: "
)

// AddAccessKey lets another access key in. Keys, like tokens, are not
// written to the state file: they come from the options at each start.
func (s *Simulator) AddAccessKey(accessKey string, key AccessKey) error {
	if err := checkAccessKey(accessKey, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessKeys[accessKey] = key
	return nil
}

func checkAccessKey(accessKey string, key AccessKey) error {
	switch {
	case accessKey == "" || strings.ContainsAny(accessKey, ", \t\r\n"):
		return fmt.Errorf("simulator: access key %q must be non-empty, without commas or white space", accessKey)
	case key.Secret == "":
		return fmt.Errorf("simulator: access key %q has no secret key", accessKey)
	}
	return nil
}

func akskUnauthorized(why string) *apiError {
	return &apiError{status: http.StatusUnauthorized, code: "iMetal.0003", msg: akskMsg + why}
}

// isAKSKRequest reports whether a request claims AK/SK authentication.
func isAKSKRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), akskScheme+" ")
}

// akskAuth is the parsed Authorization header.
type akskAuth struct {
	access        string
	signedHeaders []string
	signature     string
}

// parseAKSKAuthorization reads
// "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex".
func parseAKSKAuthorization(h string) (akskAuth, bool) {
	var a akskAuth
	rest, ok := strings.CutPrefix(h, akskScheme+" ")
	if !ok {
		return a, false
	}
	seen := map[string]bool{}
	for _, field := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok || v == "" || seen[k] {
			return a, false
		}
		seen[k] = true
		switch k {
		case "Access":
			a.access = v
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		default:
			return a, false
		}
	}
	return a, a.access != "" && len(a.signedHeaders) > 0 && a.signature != ""
}

// authenticateAKSKLocked verifies a signed request and returns its access
// key's project and scope.
func (s *Simulator) authenticateAKSKLocked(r *http.Request, body []byte) (caller, *apiError) {
	auth, ok := parseAKSKAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return caller{}, akskUnauthorized("the Authorization header is not " +
			"\"SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>\"")
	}
	key, ok := s.accessKeys[auth.access]
	if !ok {
		// Not echoed: a mistyped secret pasted as the AK must not land in
		// anyone's logs.
		return caller{}, akskUnauthorized("the access key (AK) does not exist")
	}
	for _, need := range []string{"host", "x-sdk-date"} {
		if !slices.Contains(auth.signedHeaders, need) {
			return caller{}, akskUnauthorized("the signed headers must include host and x-sdk-date")
		}
	}
	date, err := time.Parse(akskDateLayout, r.Header.Get("X-Sdk-Date"))
	if err != nil {
		return caller{}, akskUnauthorized("X-Sdk-Date is missing or not in the form YYYYMMDDTHHMMSSZ")
	}
	if skew := s.now().Sub(date); skew > SignatureMaxSkew || skew < -SignatureMaxSkew {
		return caller{}, akskUnauthorized("signature expired")
	}
	want := akskSign(key.Secret, r.Header.Get("X-Sdk-Date"), akskCanonicalRequest(r, auth.signedHeaders, body))
	got, err := hex.DecodeString(auth.signature)
	if err != nil || !hmac.Equal(got, want) {
		return caller{}, akskUnauthorized("verify aksk signature fail")
	}
	sent := r.Header.Get("X-Security-Token")
	switch {
	case key.SecurityToken == "" && sent != "":
		return caller{}, akskUnauthorized("a security token was sent with a permanent access key")
	case key.SecurityToken != "" && (subtle.ConstantTimeCompare([]byte(sent), []byte(key.SecurityToken)) != 1 ||
		!slices.Contains(auth.signedHeaders, "x-security-token")):
		return caller{}, akskUnauthorized("the security token of the temporary access key is missing, wrong or not signed")
	}
	project := key.ProjectID
	if project == "" {
		project = s.opts.ProjectID
	}
	return caller{project: project, scope: key.Scope}, nil
}

// akskSign is hex-decoded HMAC-SHA256(secret, StringToSign), where
// StringToSign is the algorithm, the date, and the hex SHA-256 of the
// canonical request, one per line.
func akskSign(secret, sdkDate, canonical string) []byte {
	sum := sha256.Sum256([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = fmt.Fprintf(mac, "%s\n%s\n%x", akskScheme, sdkDate, sum) // a hash.Hash never fails to write
	return mac.Sum(nil)
}

// akskCanonicalRequest rebuilds the canonical request from the request as
// it was received:
//
//	method \n URI \n query \n headers \n signed header names \n hex(SHA256(body))
func akskCanonicalRequest(r *http.Request, signed []string, body []byte) string {
	var b bytes.Buffer
	b.WriteString(r.Method)
	b.WriteByte('\n')

	// URI: each segment decoded and encoded again (so "%3A" and ":" are
	// the same), and a "/" at the end.
	segments := strings.Split(r.URL.EscapedPath(), "/")
	for i, seg := range segments {
		if i > 0 {
			b.WriteByte('/')
		}
		if raw, err := url.PathUnescape(seg); err == nil {
			seg = raw
		}
		b.WriteString(rfc3986(seg))
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("/")) {
		b.WriteByte('/')
	}
	b.WriteByte('\n')

	// Query: name=value pairs encoded, sorted by name then value.
	q, _ := url.ParseQuery(r.URL.RawQuery)
	var pairs [][2]string
	for name, values := range q {
		for _, v := range values {
			pairs = append(pairs, [2]string{name, v})
		}
	}
	slices.SortFunc(pairs, func(x, y [2]string) int {
		if c := strings.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return strings.Compare(x[1], y[1])
	})
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(rfc3986(p[0]) + "=" + rfc3986(p[1]))
	}
	b.WriteByte('\n')

	// Headers, in the order the client listed them, then the list.
	for _, name := range signed {
		values := r.Header.Values(name)
		if name == "host" {
			values = []string{r.Host}
		}
		values = slices.Clone(values)
		slices.Sort(values)
		if len(values) == 0 {
			values = []string{""}
		}
		for _, v := range values {
			b.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

// rfc3986 percent-encodes all but the unreserved characters of RFC 3986.
func rfc3986(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
