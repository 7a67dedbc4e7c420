package simulator

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The simulator validates with its own code, written from DESIGN.md, 8.4,
// and not with the provider's validators: each is a check on the other.

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

// checkName: 1–63 characters: letters, digits, '_', '-', '.', Chinese.
func checkName(name string) string {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 63 {
		return fmt.Sprintf("name must be 1 to 63 characters long, got %d", n)
	}
	for _, c := range name {
		switch {
		case c < 128 && (unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '-' || c == '.'):
		case unicode.Is(unicode.Han, c):
		default:
			return fmt.Sprintf("name contains %q; only letters, digits, '_', '-', '.' and Chinese characters are allowed", c)
		}
	}
	return ""
}

const passwordSpecials = "!@$%^-_=+[{}]:,./?" //nolint:gosec // G101: the characters a password may use, not a password

// checkPassword applies the password rules for an image whose administrator
// is user: 8–26 characters from the allowed set, at least three of the four
// character classes, and neither the user name nor its reverse.
func checkPassword(pw, user string) string {
	n := utf8.RuneCountInString(pw)
	if n < 8 || n > 26 {
		return "password must be 8 to 26 characters long"
	}
	var upper, lower, digit, special bool
	for _, c := range pw {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		case strings.ContainsRune(passwordSpecials, c):
			special = true
		default:
			return "password contains a character that is not allowed; use letters, digits and " + passwordSpecials
		}
	}
	classes := 0
	for _, b := range []bool{upper, lower, digit, special} {
		if b {
			classes++
		}
	}
	if classes < 3 {
		return "password must contain at least three of: upper-case letters, lower-case letters, digits, special characters " + passwordSpecials
	}
	lp := strings.ToLower(pw)
	lu := strings.ToLower(user)
	if strings.Contains(lp, lu) || strings.Contains(lp, reverse(lu)) {
		return fmt.Sprintf("password must not contain the user name %q or its reverse", user)
	}
	return ""
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

var metadataKeyRE = regexp.MustCompile(`^[A-Za-z0-9\-_:. ]{1,255}$`)

func checkMetadata(md map[string]string) string {
	if len(md) > 10 {
		return fmt.Sprintf("metadata has %d pairs; at most 10 are allowed", len(md))
	}
	for k, v := range md {
		if !metadataKeyRE.MatchString(k) {
			return fmt.Sprintf("metadata key %q must be 1 to 255 characters of A-Z, a-z, 0-9, '-', '_', ':', '.' and space", k)
		}
		if utf8.RuneCountInString(v) > 255 {
			return fmt.Sprintf("metadata value of key %q is longer than 255 characters", k)
		}
	}
	return ""
}

// usableAddr reports whether a is a host address of the subnet: inside it,
// and neither the network address, the gateway (.1) nor the broadcast.
func usableAddr(sn SubnetSpec, a netip.Addr) bool {
	if !sn.CIDR.Contains(a) {
		return false
	}
	first := sn.CIDR.Addr()
	return a != first && a != first.Next() && a != lastAddr(sn.CIDR)
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	var last [4]byte
	binary.BigEndian.PutUint32(last[:], binary.BigEndian.Uint32(b[:])|host)
	return netip.AddrFrom4(last)
}
