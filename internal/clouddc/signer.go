package clouddc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// AK/SK request signing, as Huawei Cloud's "API Request Signing Guide"
// publishes it (algorithm SDK-HMAC-SHA256), the way the official SDKs sign:
//
//	CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n
//	                   CanonicalHeaders \n SignedHeaders \n hex(SHA256(body))
//	StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(SHA256(CanonicalRequest))
//	Signature        = hex(HMAC-SHA256(SK, StringToSign))
//	Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex>
//
// The API gateway rejects a signature whose X-Sdk-Date is more than 15
// minutes from its clock, so every attempt (every retry) is signed afresh.

const (
	signAlgorithm = "SDK-HMAC-SHA256"
	// sdkDateFormat is the layout of X-Sdk-Date: basic ISO 8601, UTC.
	sdkDateFormat = "20060102T150405Z"

	headerSdkDate       = "X-Sdk-Date"
	headerSecurityToken = "X-Security-Token"
	headerProjectID     = "X-Project-Id"
)

// akskCredentials are a permanent access key pair, or a temporary one with
// its security token.
type akskCredentials struct {
	accessKey, secretKey, securityToken string
}

// WithAKSK makes the client sign every request with an access key (AK) and
// a secret key (SK), instead of sending an IAM token. securityToken is for
// temporary AK/SK (from IAM's securitytokens API) and is empty for a
// permanent key pair. A client uses either WithToken or WithAKSK.
func WithAKSK(accessKey, secretKey, securityToken string) Option {
	return func(c *Client) error {
		switch {
		case accessKey == "":
			return errors.New("access key must not be empty")
		case secretKey == "":
			return errors.New("secret key must not be empty")
		case strings.ContainsAny(accessKey, ", \t\r\n"):
			// It goes into the Authorization header as Access=<AK>, where
			// a comma or white space would split it.
			return errors.New("access key must not contain commas or white space")
		}
		c.aksk = &akskCredentials{accessKey: accessKey, secretKey: secretKey, securityToken: securityToken}
		return nil
	}
}

// sign adds X-Sdk-Date, X-Project-Id, X-Security-Token (for temporary
// keys) and the Authorization header to req, whose body is body. It must
// run after every other header that is signed has been set.
func (k *akskCredentials) sign(req *http.Request, body []byte, projectID string, now time.Time) {
	// Sign the Host header exactly as it goes on the wire. The gateway
	// drops a default port (":443" for https), so send it without one.
	req.Host = signingHost(req.URL)
	req.Header.Set(headerSdkDate, now.UTC().Format(sdkDateFormat))
	if projectID != "" {
		req.Header.Set(headerProjectID, projectID)
	}
	if k.securityToken != "" {
		req.Header.Set(headerSecurityToken, k.securityToken)
	}
	names := signedHeaderNames(req.Header)
	cr := canonicalRequest(req.Method, req.URL.EscapedPath(), req.URL.Query(),
		canonicalHeaders(req.Host, req.Header, names), names, body)
	sig := signature(k.secretKey, stringToSign(cr, req.Header.Get(headerSdkDate)))
	req.Header.Set("Authorization", signAlgorithm+" Access="+k.accessKey+
		", SignedHeaders="+strings.Join(names, ";")+", Signature="+sig)
}

// signingHost is the URL's host, without the port when it is the scheme's
// default one.
func signingHost(u *url.URL) string {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return u.Host // no port
	}
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		if strings.Contains(host, ":") {
			return "[" + host + "]" // IPv6
		}
		return host
	}
	return u.Host
}

// signedHeaderNames are the lower-cased, sorted names of the headers that
// the signature covers: host and x-sdk-date always, and content-type,
// x-project-id and x-security-token when the request has them. Accept and
// User-Agent are left out: proxies may rewrite them.
func signedHeaderNames(h http.Header) []string {
	names := []string{"host", "x-sdk-date"}
	for _, n := range []string{"Content-Type", headerProjectID, headerSecurityToken} {
		if h.Get(n) != "" {
			names = append(names, strings.ToLower(n))
		}
	}
	sort.Strings(names)
	return names
}

// canonicalHeaders is one "name:value\n" line per signed header, in the
// order of names, with the value trimmed. host is the Host header.
func canonicalHeaders(host string, h http.Header, names []string) string {
	var b strings.Builder
	for _, n := range names {
		v := host
		if n != "host" {
			v = h.Get(n)
		}
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(v))
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalRequest assembles the canonical request. escapedPath is the
// path as it is sent (URL.EscapedPath); headers is canonicalHeaders.
func canonicalRequest(method, escapedPath string, query url.Values, headers string, names []string, body []byte) string {
	bodyHash := sha256.Sum256(body)
	return method + "\n" +
		canonicalURI(escapedPath) + "\n" +
		canonicalQueryString(query) + "\n" +
		headers + "\n" +
		strings.Join(names, ";") + "\n" +
		hex.EncodeToString(bodyHash[:])
}

// canonicalURI encodes each segment of the path with uriEncode and makes
// sure it ends with "/", as Huawei's signers do. The path arrives escaped
// (the client escapes IDs with url.PathEscape, which keeps characters such
// as ':' that RFC 3986 encoding does not), so each segment is decoded and
// encoded again.
func canonicalURI(escapedPath string) string {
	segs := strings.Split(escapedPath, "/")
	for i, s := range segs {
		if d, err := url.PathUnescape(s); err == nil {
			s = d
		}
		segs[i] = uriEncode(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// canonicalQueryString sorts the parameters by name, and the values of a
// name among themselves, and joins the encoded name=value pairs with "&".
func canonicalQueryString(q url.Values) string {
	names := make([]string, 0, len(q))
	for n := range q {
		names = append(names, n)
	}
	sort.Strings(names)
	var pairs []string
	for _, n := range names {
		vals := append([]string(nil), q[n]...)
		sort.Strings(vals)
		for _, v := range vals {
			pairs = append(pairs, uriEncode(n)+"="+uriEncode(v))
		}
	}
	return strings.Join(pairs, "&")
}

// uriEncode percent-encodes every byte except RFC 3986's unreserved
// characters (A-Z a-z 0-9 - . _ ~), with upper-case hex: a space becomes
// %20, never "+".
func uriEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// stringToSign is what the secret key signs.
func stringToSign(canonicalRequest, sdkDate string) string {
	h := sha256.Sum256([]byte(canonicalRequest))
	return signAlgorithm + "\n" + sdkDate + "\n" + hex.EncodeToString(h[:])
}

// signature is the hex HMAC-SHA256 of the string to sign, keyed with the
// secret key.
func signature(secretKey, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}
