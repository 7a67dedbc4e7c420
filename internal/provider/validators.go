package provider

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// The validators below check at plan time the rules that the CloudDC API
// enforces, so that a typo fails in seconds rather than twenty minutes into
// an apply. Each error names the rule that was broken; the framework adds
// the attribute's path.

// stringCheck adapts a function that returns why a value is invalid (or "")
// into a validator.String.
type stringCheck struct {
	desc  string
	check func(string) string
}

func (v stringCheck) Description(context.Context) string             { return v.desc }
func (v stringCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := v.check(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(), req.Path.String()+": "+msg)
	}
}

func validName() validator.String {
	return stringCheck{desc: "1 to 63 letters, digits, '_', '-', '.' or Chinese characters", check: func(s string) string {
		n := utf8.RuneCountInString(s)
		if n < 1 || n > 63 {
			return fmt.Sprintf("The name must be 1 to 63 characters long; %q has %d.", s, n)
		}
		for _, c := range s {
			ascii := c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("_-.", c))
			if !ascii && !unicode.Is(unicode.Han, c) {
				return fmt.Sprintf("The name %q contains %q; only letters, digits, '_', '-', '.' and Chinese characters are allowed.", s, c)
			}
		}
		return ""
	}}
}

const passwordSpecials = "!@$%^-_=+[{}]:,./?" //nolint:gosec // G101: the characters a password may use, not a password

// validPassword applies the API's password rules. The administrator is root
// on Linux images and Administrator on Windows images; the image's OS is not
// known at plan time, so neither name (nor its reverse) may appear.
func validPassword() validator.String {
	return stringCheck{desc: "8 to 26 characters, three character classes, no user name", check: checkPassword}
}

func checkPassword(pw string) string {
	if n := utf8.RuneCountInString(pw); n < 8 || n > 26 {
		return fmt.Sprintf("The password must be 8 to 26 characters long; it has %d.", n)
	}
	var classes [4]bool
	for _, c := range pw {
		switch {
		case c >= 'A' && c <= 'Z':
			classes[0] = true
		case c >= 'a' && c <= 'z':
			classes[1] = true
		case c >= '0' && c <= '9':
			classes[2] = true
		case strings.ContainsRune(passwordSpecials, c):
			classes[3] = true
		default:
			return "The password contains a character that is not allowed. Use letters, digits and the special characters " + passwordSpecials + "."
		}
	}
	n := 0
	for _, ok := range classes {
		if ok {
			n++
		}
	}
	if n < 3 {
		return "The password must contain at least three of: upper-case letters, lower-case letters, digits, and special characters " + passwordSpecials + "."
	}
	lower := strings.ToLower(pw)
	for _, user := range []string{"root", "administrator"} {
		if strings.Contains(lower, user) || strings.Contains(lower, reverse(user)) {
			return fmt.Sprintf("The password must not contain the administrator's user name %q or its reverse (root on Linux, Administrator on Windows).", user)
		}
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

func validUUID() validator.String {
	return stringCheck{desc: "a lower-case UUID", check: func(s string) string {
		if isUUID(s) {
			return ""
		}
		return fmt.Sprintf("%q is not an ID of the form 2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d (a lower-case UUID).", s)
	}}
}

func validIPv4() validator.String {
	return stringCheck{desc: "an IPv4 address", check: func(s string) string {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return fmt.Sprintf("%q is not an IPv4 address such as 192.168.0.10.", s)
		}
		return ""
	}}
}

func maxLength(n int) validator.String {
	return stringCheck{desc: fmt.Sprintf("at most %d characters", n), check: func(s string) string {
		if c := utf8.RuneCountInString(s); c > n {
			return fmt.Sprintf("At most %d characters are allowed; the value has %d.", n, c)
		}
		return ""
	}}
}

var metadataKeyRE = regexp.MustCompile(`^[A-Za-z0-9\-_:. ]{1,255}$`)

// metadataRules checks the metadata map: at most clouddc.MaxMetadataPairs
// pairs (the API's limit; an instance the provider creates takes one fewer,
// which checkCreateMetadata checks, since the create token takes one),
// keys of 1 to 255 allowed characters other than the reserved
// clouddc.CreateTokenKey, values of at most 255 characters.
type metadataRules struct{}

func (metadataRules) Description(context.Context) string {
	return fmt.Sprintf("at most %d pairs (%d for an instance the provider creates); keys 1-255 of A-Z a-z 0-9 - _ : . and space, not %s; values up to 255 characters",
		clouddc.MaxMetadataPairs, clouddc.MaxUserMetadata, clouddc.CreateTokenKey)
}
func (v metadataRules) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (metadataRules) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	elems := req.ConfigValue.Elements()
	if len(elems) > clouddc.MaxMetadataPairs {
		resp.Diagnostics.AddAttributeError(req.Path, "Too Many Metadata Pairs",
			fmt.Sprintf("%s: at most %d pairs are allowed; it has %d. The API stores %d, and an instance the provider creates takes "+
				"%d, since the provider uses one for the create token (%s) that proves which instance a create made.",
				req.Path, clouddc.MaxMetadataPairs, len(elems), clouddc.MaxMetadataPairs, clouddc.MaxUserMetadata, clouddc.CreateTokenKey))
	}
	if _, ok := elems[clouddc.CreateTokenKey]; ok {
		resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(clouddc.CreateTokenKey), "Reserved Metadata Key",
			fmt.Sprintf("%s: the key %q is reserved: the provider sets it on every instance it creates, to prove which create "+
				"made it. Use another key.", req.Path, clouddc.CreateTokenKey))
	}
	for k, v := range elems {
		if !metadataKeyRE.MatchString(k) {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Invalid Metadata Key",
				fmt.Sprintf("%s: the key %q must be 1 to 255 characters of A-Z, a-z, 0-9, '-', '_', ':', '.' and space.", req.Path, k))
		}
		if s, ok := v.(types.String); ok && !s.IsUnknown() && utf8.RuneCountInString(s.ValueString()) > 255 {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Metadata Value Too Long",
				fmt.Sprintf("%s: the value of key %q has %d characters; at most 255 are allowed.", req.Path, k, utf8.RuneCountInString(s.ValueString())))
		}
	}
}

// passwordGiven requires exactly one of password and password_wo. A
// resource without either is most often configuration that terraform query
// -generate-config-out wrote, or an import block's: the API never returns a
// password, so Terraform could not fill it in. The error says so and where
// to read on, rather than the generic "exactly one of".
type passwordGiven struct{}

var _ resource.ConfigValidator = passwordGiven{}

func (passwordGiven) Description(context.Context) string {
	return "exactly one of password and password_wo must be set"
}

func (v passwordGiven) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (passwordGiven) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var pw, wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("password"), &pw)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("password_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	switch {
	case !pw.IsNull() && !wo.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("password_wo"), "Conflicting Instance Passwords",
			"Both password and password_wo are set. Set one of them: password_wo (with password_wo_version, Terraform 1.11 and "+
				"later) keeps the password out of the state; password is stored in the state, marked sensitive.")
	case pw.IsNull() && wo.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("password"), "Missing Instance Password",
			"Set password, or password_wo with password_wo_version (Terraform 1.11 and later), to the administrator password "+
				"the instance should have. The CloudDC API never returns an instance's password, so Terraform cannot fill it in: "+
				"configuration written by terraform query -generate-config-out, or for an import, has password = null. "+
				"Give it from a sensitive variable, such as password = var.web_password. The first apply after an import then "+
				"sets it on the instance (ChangeInstancePassword), which takes effect at the server's next power-on or reboot.\n\n"+
				"The guide \"Taking over instances installed by hand\" in the provider's documentation "+
				"(docs/guides/adopting-instances.md in its repository) walks through it.")
	}
}
