package provider

// The provider's settings: where each comes from (the provider block, then
// the CLOUDDC_* variables, then the huaweicloud provider's HW_* variables),
// how they are checked, and what they resolve to.

import (
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Environment variables that supply the provider's settings when the
// provider block leaves them unset.
const (
	EnvEndpoint      = "CLOUDDC_ENDPOINT"
	EnvRegion        = "CLOUDDC_REGION"
	EnvProjectID     = "CLOUDDC_PROJECT_ID"
	EnvToken         = "CLOUDDC_TOKEN"          //nolint:gosec // G101: the name of a variable, not a token
	EnvAccessKey     = "CLOUDDC_ACCESS_KEY"     //nolint:gosec // G101: the name of a variable, not a key
	EnvSecretKey     = "CLOUDDC_SECRET_KEY"     //nolint:gosec // G101: the name of a variable, not a key
	EnvSecurityToken = "CLOUDDC_SECURITY_TOKEN" //nolint:gosec // G101: the name of a variable, not a token
	EnvIAMEndpoint   = "CLOUDDC_IAM_ENDPOINT"
	EnvMaxRetries    = "CLOUDDC_MAX_RETRIES"
	EnvInsecure      = "CLOUDDC_INSECURE"
	// EnvSkipCredentialsValidation turns off the check of the credentials
	// that Configure makes, as skip_credentials_validation does.
	EnvSkipCredentialsValidation = "CLOUDDC_SKIP_CREDENTIALS_VALIDATION" //nolint:gosec // G101: the name of a variable
)

// The HuaweiCloud provider's variables. They come after ours, so that a
// shell set up for the huaweicloud provider works for this one too, and
// CLOUDDC_* can still point this provider elsewhere.
const (
	EnvHWRegion        = "HW_REGION_NAME"
	EnvHWProjectID     = "HW_PROJECT_ID"
	EnvHWAuthToken     = "HW_AUTH_TOKEN"     //nolint:gosec // G101: the name of a variable, not a token
	EnvHWAccessKey     = "HW_ACCESS_KEY"     //nolint:gosec // G101: the name of a variable, not a key
	EnvHWSecretKey     = "HW_SECRET_KEY"     //nolint:gosec // G101: the name of a variable, not a key
	EnvHWSecurityToken = "HW_SECURITY_TOKEN" //nolint:gosec // G101: the name of a variable, not a token
	EnvHWMaxRetries    = "HW_MAX_RETRIES"
	EnvHWInsecure      = "HW_INSECURE"
)

// regionRE is the shape of a Huawei Cloud region name: cn-east-3,
// ap-southeast-3, la-north-2. The endpoint is derived from it, so anything
// else would make a host name nobody meant.
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// regionDomains are the Huawei Cloud regions the provider knows, with the
// domain their endpoints are served under. It follows the regions of Huawei
// Cloud's SDKs and the rule of the huaweicloud provider: the European
// cloud (eu-west-101) is served under myhuaweicloud.eu, every other region
// under myhuaweicloud.com. A region missing here is reached by setting
// endpoint (and iam_endpoint) instead.
var regionDomains = map[string]string{
	"af-north-1": domainCom, "af-south-1": domainCom, "ae-ad-1": domainCom,
	"ap-southeast-1": domainCom, "ap-southeast-2": domainCom, "ap-southeast-3": domainCom, "ap-southeast-4": domainCom, "ap-southeast-5": domainCom,
	"cn-east-2": domainCom, "cn-east-3": domainCom, "cn-east-4": domainCom, "cn-east-5": domainCom,
	"cn-north-1": domainCom, "cn-north-2": domainCom, "cn-north-4": domainCom, "cn-north-9": domainCom, "cn-north-11": domainCom, "cn-north-12": domainCom,
	"cn-south-1": domainCom, "cn-south-2": domainCom, "cn-south-4": domainCom, "cn-southwest-2": domainCom, "cn-southwest-3": domainCom,
	"eu-west-0": domainCom, "eu-west-101": domainEU,
	"la-north-2": domainCom, "la-south-2": domainCom, "me-east-1": domainCom, "my-kualalumpur-1": domainCom,
	"na-mexico-1": domainCom, "ru-moscow-1": domainCom, "sa-brazil-1": domainCom, "tr-west-1": domainCom,
}

const (
	domainCom = "myhuaweicloud.com"
	domainEU  = "myhuaweicloud.eu"
)

// knownRegions lists regionDomains' regions, sorted, for a message.
func knownRegions() string {
	return strings.Join(slices.Sorted(maps.Keys(regionDomains)), ", ")
}

// regionEndpoint is CloudDC's endpoint in a known region.
func regionEndpoint(region string) string {
	return "https://clouddc." + region + "." + regionDomains[region]
}

// regionIAMEndpoint is IAM's endpoint in a known region, where the project
// is looked up when project_id is unset.
func regionIAMEndpoint(region string) string {
	return "https://iam." + region + "." + regionDomains[region]
}

// settings are the provider's resolved settings. Exactly one way to
// authenticate is filled in: token, or accessKey and secretKey (with
// securityToken for a temporary key pair). projectID is empty when the
// project must be looked up in IAM at iamEndpoint, by the region's name.
type settings struct {
	endpoint, region, projectID         string
	iamEndpoint                         string
	token                               string
	accessKey, secretKey, securityToken string
	// credentialsFrom says which credentials are used and which setting
	// or variable each came from, for messages (see credentialSource).
	credentialsFrom string
	conn            connSettings
}

// connSettings are how the provider talks to the API.
type connSettings struct {
	maxRetries    int // meaningful when maxRetriesSet; else the client's default
	maxRetriesSet bool
	insecure      bool
	insecureFrom  string // where insecure = true came from, for the warning
	// skipCredentialsValidation turns off the request that Configure makes
	// to prove the credentials before anything is planned.
	skipCredentialsValidation bool
}

// credentialSource says which credentials are used and where each came
// from, for a message, as in "an access key pair: access_key from the
// CLOUDDC_ACCESS_KEY environment variable, secret_key from "secret_key" in
// the provider block". Not even the access key ID is quoted: when the
// credentials are refused, it may be a secret pasted in the wrong place.
func (s settings) credentialSource() string {
	if s.credentialsFrom != "" {
		return s.credentialsFrom
	}
	switch {
	case s.token != "":
		return "a token"
	case s.securityToken != "":
		return "a temporary access key pair"
	}
	return "an access key pair"
}

// secrets are the settings that must never reach a log.
func (s settings) secrets() []string {
	var out []string
	for _, v := range []string{s.token, s.secretKey, s.securityToken} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Where a setting came from, in order of precedence.
const (
	fromConfig  = iota // the provider block
	fromOurEnv         // a CLOUDDC_* variable
	fromHWEnv          // an HW_* variable
	fromNowhere        // unset
)

// setting is one resolved value and where it came from.
type setting struct {
	value   string
	attr    string // the attribute's name
	source  string // the attribute or the variable it came from; "" if unset
	level   int    // fromConfig ... fromNowhere
	unknown bool   // unknown in the configuration (already reported)
}

func (s setting) set() bool { return s.value != "" }

// where names the setting's source for a message, such as
// `"token" in the provider block` or `the CLOUDDC_TOKEN environment variable`.
func (s setting) where() string {
	if s.level == fromConfig {
		return fmt.Sprintf("%q in the provider block", s.attr)
	}
	return "the " + s.source + " environment variable"
}

// name is the attribute, quoted, or the variable the setting came from.
func (s setting) name() string {
	if s.level == fromConfig {
		return fmt.Sprintf("%q", s.attr)
	}
	return s.source
}

// resolveSettings picks each setting from the configuration, falling back to
// the CLOUDDC_* variables and then to the HuaweiCloud provider's HW_*
// variables, and checks the result. Every problem is an attribute error that
// names the attribute and its environment variables, never a secret's value.
func resolveSettings(cfg providerModel, getenv func(string) string) (settings, diag.Diagnostics) {
	var diags diag.Diagnostics
	lookup := func(v types.String, attr, what string, envs ...string) setting {
		st := setting{attr: attr, level: fromNowhere}
		if v.IsUnknown() {
			diags.AddAttributeError(path.Root(attr), "Unknown CloudDC "+what,
				fmt.Sprintf("The provider cannot be configured while %q is unknown: it depends on a value that is known only after apply. "+
					"Set it to a literal or a variable, or set the %s environment variable instead.", attr, orList(envs)))
			st.unknown = true
			return st
		}
		if s := v.ValueString(); !v.IsNull() && s != "" {
			st.value, st.source, st.level = s, attr, fromConfig
			return st
		}
		for _, env := range envs {
			if s := getenv(env); s != "" {
				st.value, st.source, st.level = s, env, fromOurEnv
				if strings.HasPrefix(env, "HW_") {
					st.level = fromHWEnv
				}
				return st
			}
		}
		return st
	}
	endpoint := lookup(cfg.Endpoint, "endpoint", "Endpoint", EnvEndpoint)
	region := lookup(cfg.Region, "region", "Region", EnvRegion, EnvHWRegion)
	project := lookup(cfg.ProjectID, "project_id", "Project ID", EnvProjectID, EnvHWProjectID)
	token := lookup(cfg.Token, "token", "Token", EnvToken, EnvHWAuthToken)
	accessKey := lookup(cfg.AccessKey, "access_key", "Access Key", EnvAccessKey, EnvHWAccessKey)
	secretKey := lookup(cfg.SecretKey, "secret_key", "Secret Key", EnvSecretKey, EnvHWSecretKey)
	securityToken := lookup(cfg.SecurityToken, "security_token", "Security Token", EnvSecurityToken, EnvHWSecurityToken)

	iamEndpoint := lookup(cfg.IAMEndpoint, "iam_endpoint", "IAM Endpoint", EnvIAMEndpoint)

	s := settings{region: region.value, projectID: project.value}
	regionReported := resolveEndpoint(&s, endpoint, region, &diags)

	switch {
	case project.unknown:
	case !project.set():
		resolveProjectLookup(&s, iamEndpoint, region, regionReported, &diags)
	case strings.ContainsAny(s.projectID, "/?#% \t\n"):
		diags.AddAttributeError(path.Root("project_id"), "Invalid CloudDC Project ID",
			fmt.Sprintf("project_id: the project ID %q (from %s) contains characters that cannot be part of an IAM project ID ('/', '?', '#', '%%' or white space).",
				s.projectID, project.where()))
	}

	if !token.unknown && !accessKey.unknown && !secretKey.unknown && !securityToken.unknown {
		resolveCredentials(&s, token, accessKey, secretKey, securityToken, &diags)
	}
	s.conn = resolveConnection(cfg, getenv, &diags)
	return s, diags
}

// checkRegion returns why a region cannot give an endpoint, or "".
func checkRegion(region setting) string {
	if !regionRE.MatchString(region.value) {
		return fmt.Sprintf("region: %q (from %s) is not a Huawei Cloud region name such as cn-east-3", region.value, region.where())
	}
	if _, ok := regionDomains[region.value]; !ok {
		return fmt.Sprintf("region: %q (from %s) is not a region the provider knows. The known regions are: %s", region.value, region.where(), knownRegions())
	}
	return ""
}

// resolveProjectLookup prepares the lookup of the project in IAM by the
// region's name, when project_id is unset, as the huaweicloud provider
// does. The IAM endpoint is iam_endpoint, or else follows from the region.
func resolveProjectLookup(s *settings, iamEndpoint, region setting, regionReported bool, diags *diag.Diagnostics) {
	switch {
	case region.unknown || iamEndpoint.unknown || regionReported:
	case !region.set():
		diags.AddAttributeError(path.Root("project_id"), "Missing CloudDC Project ID",
			fmt.Sprintf("The provider needs the IAM project ID. Set %q in the provider block or the %s or %s environment variable, "+
				"or set %q (or %s or %s) to the region, and the provider looks up the project named after the region in IAM, "+
				"as the huaweicloud provider does.", "project_id", EnvProjectID, EnvHWProjectID, "region", EnvRegion, EnvHWRegion))
	case iamEndpoint.set():
		if msg := checkEndpoint(iamEndpoint.value); msg != "" {
			diags.AddAttributeError(path.Root("iam_endpoint"), "Invalid IAM Endpoint",
				fmt.Sprintf("iam_endpoint (from %s): the endpoint %q %s.", iamEndpoint.where(), clouddc.RedactURL(iamEndpoint.value), msg))
			return
		}
		s.iamEndpoint = iamEndpoint.value
	default:
		if msg := checkRegion(region); msg != "" {
			diags.AddAttributeError(path.Root("region"), "Unknown CloudDC Region",
				msg+". The project ID is looked up in IAM by the region's name, at an endpoint that follows from the region. "+
					"Set project_id (or "+EnvProjectID+") instead, or set iam_endpoint (or "+EnvIAMEndpoint+") to IAM's URL in that region.")
			return
		}
		s.iamEndpoint = regionIAMEndpoint(region.value)
	}
}

// resolveConnection resolves max_retries, insecure and
// skip_credentials_validation, each from the block, then CLOUDDC_*, then HW_*.
func resolveConnection(cfg providerModel, getenv func(string) string, diags *diag.Diagnostics) connSettings {
	var c connSettings
	unknown := func(attr string, envs ...string) {
		diags.AddAttributeError(path.Root(attr), "Unknown CloudDC Provider Setting",
			fmt.Sprintf("The provider cannot be configured while %q is unknown: it depends on a value that is known only after apply. "+
				"Set it to a literal or a variable, or set the %s environment variable instead.", attr, orList(envs)))
	}
	firstEnv := func(envs ...string) (string, string) {
		for _, env := range envs {
			if v := strings.TrimSpace(getenv(env)); v != "" {
				return env, v
			}
		}
		return "", ""
	}
	envBool := func(attr string, envs ...string) (bool, string) {
		env, v := firstEnv(envs...)
		if env == "" {
			return false, ""
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			diags.AddAttributeError(path.Root(attr), "Invalid CloudDC Provider Setting",
				fmt.Sprintf("%s: the %s environment variable is %q, which is not true or false.", attr, env, v))
			return false, ""
		}
		return b, env
	}

	switch {
	case cfg.MaxRetries.IsUnknown():
		unknown("max_retries", EnvMaxRetries, EnvHWMaxRetries)
	case !cfg.MaxRetries.IsNull():
		c.maxRetries, c.maxRetriesSet = int(cfg.MaxRetries.ValueInt64()), true
	default:
		if env, v := firstEnv(EnvMaxRetries, EnvHWMaxRetries); env != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > maxRetriesLimit {
				diags.AddAttributeError(path.Root("max_retries"), "Invalid CloudDC Provider Setting",
					fmt.Sprintf("max_retries: the %s environment variable is %q; it must be a whole number from 0 to %d.", env, v, maxRetriesLimit))
				break
			}
			c.maxRetries, c.maxRetriesSet = n, true
		}
	}

	switch {
	case cfg.Insecure.IsUnknown():
		unknown("insecure", EnvInsecure, EnvHWInsecure)
	case !cfg.Insecure.IsNull():
		c.insecure, c.insecureFrom = cfg.Insecure.ValueBool(), `"insecure" in the provider block`
	default:
		var env string
		if c.insecure, env = envBool("insecure", EnvInsecure, EnvHWInsecure); env != "" {
			c.insecureFrom = "the " + env + " environment variable"
		}
	}

	switch {
	case cfg.SkipCredentialsValidation.IsUnknown():
		unknown("skip_credentials_validation", EnvSkipCredentialsValidation)
	case !cfg.SkipCredentialsValidation.IsNull():
		c.skipCredentialsValidation = cfg.SkipCredentialsValidation.ValueBool()
	default:
		c.skipCredentialsValidation, _ = envBool("skip_credentials_validation", EnvSkipCredentialsValidation)
	}
	return c
}

// maxRetriesLimit is the most retries max_retries allows.
const maxRetriesLimit = 100

// resolveEndpoint sets s.endpoint from endpoint, or else from region. It
// reports whether it reported a problem with the region.
func resolveEndpoint(s *settings, endpoint, region setting, diags *diag.Diagnostics) (regionReported bool) {
	switch {
	case endpoint.unknown:
	case endpoint.set():
		s.endpoint = endpoint.value
		if msg := checkEndpoint(endpoint.value); msg != "" {
			source := "endpoint"
			if endpoint.level != fromConfig {
				source = "endpoint (from " + endpoint.source + ")"
			}
			diags.AddAttributeError(path.Root("endpoint"), "Invalid CloudDC Endpoint", fmt.Sprintf("%s: the endpoint %q %s.", source, clouddc.RedactURL(endpoint.value), msg))
		}
	case region.unknown:
	case region.set():
		// A region from the environment is checked only here, when it is
		// used; the block's value has its shape checked by validation too.
		if !regionRE.MatchString(region.value) {
			diags.AddAttributeError(path.Root("region"), "Invalid CloudDC Region",
				fmt.Sprintf("region: %q (from %s) is not a Huawei Cloud region name such as cn-east-3, so no endpoint can be derived from it. "+
					"Fix the region, or set endpoint to the API's URL.", region.value, region.where()))
			return true
		}
		if msg := checkRegion(region); msg != "" {
			diags.AddAttributeError(path.Root("region"), "Unknown CloudDC Region",
				msg+". For a region missing from this list, set endpoint (or "+EnvEndpoint+") to the CloudDC API's URL in that region, "+
					"and project_id or iam_endpoint, since no endpoint can be derived from the region.")
			return true
		}
		s.endpoint = regionEndpoint(region.value)
	default:
		diags.AddAttributeError(path.Root("endpoint"), "Missing CloudDC Endpoint",
			fmt.Sprintf("The provider needs to know where the CloudDC API is. Set %q in the provider block or the %s environment variable "+
				"to the API's URL, or set %q (or the %s or %s environment variable) to a region such as cn-east-3, "+
				"from which the endpoint %s follows.", "endpoint", EnvEndpoint, "region", EnvRegion, EnvHWRegion, "https://clouddc.{region}."+domainCom))
	}
	return false
}

// resolveCredentials picks the token or the access key pair. Precedence
// applies to a way of authenticating as a whole: one set in the provider
// block beats one from CLOUDDC_* variables, which beats one from HW_*
// variables, so that an HW_AUTH_TOKEN left in a shell does not break a
// provider block that holds keys (or HW_ACCESS_KEY and HW_SECRET_KEY,
// which the huaweicloud provider needs, one that holds a token). Both
// ways at the same level is an error: which was meant cannot be guessed.
func resolveCredentials(s *settings, token, accessKey, secretKey, securityToken setting, diags *diag.Diagnostics) {
	pairLevel := min(accessKey.level, secretKey.level)
	switch {
	case !token.set() && pairLevel == fromNowhere && !securityToken.set():
		diags.AddAttributeError(path.Root("token"), "Missing CloudDC Credentials",
			fmt.Sprintf("The provider needs a token or an access key pair. Set %q in the provider block or the %s or %s environment variable, "+
				"or set %q and %q (or %s and %s, or %s and %s).", "token", EnvToken, EnvHWAuthToken,
				"access_key", "secret_key", EnvAccessKey, EnvSecretKey, EnvHWAccessKey, EnvHWSecretKey))
		return
	case token.set() && token.level == pairLevel:
		var pair []string
		for _, p := range []setting{accessKey, secretKey} {
			if p.set() {
				pair = append(pair, p.name())
			}
		}
		attr, where, remove := path.Root("token"), "The provider block sets", "remove %s from the provider block"
		if token.level != fromConfig {
			attr, where, remove = path.Root("access_key"), "The environment sets", "unset %s"
		}
		diags.AddAttributeError(attr, "Conflicting CloudDC credentials",
			fmt.Sprintf("%s both a token (%s) and an access key pair (%s); the provider authenticates with one of them. To sign requests with "+
				"the access key pair, "+remove+"; to use the token, "+remove+". (A way of authenticating set in the provider block beats "+
				"one from CLOUDDC_* variables, which beats one from HW_* variables.)",
				where, token.name(), strings.Join(pair, " and "), token.name(), strings.Join(pair, " and ")))
		return
	case token.set() && token.level < pairLevel:
		// A security token goes with a key pair; one from a lower level
		// than the token is left over in the environment and ignored.
		if securityToken.set() && securityToken.level <= token.level {
			diags.AddAttributeError(path.Root("security_token"), "Security Token Without an Access Key Pair",
				fmt.Sprintf("security_token is set (%s) together with a token (%s): a security token only goes with the temporary "+
					"access key pair it was issued with, and is never sent with a token. Remove the security token, or use "+
					"access_key and secret_key instead of the token.", securityToken.where(), token.where()))
			return
		}
		s.token = token.value
		s.credentialsFrom = "a token, from " + token.where()
		return
	}

	// The access key pair it is.
	switch {
	case !accessKey.set() && !secretKey.set():
		diags.AddAttributeError(path.Root("security_token"), "Security Token Without an Access Key Pair",
			fmt.Sprintf("security_token is set (%s), but access_key and secret_key are not: a security token only goes with the "+
				"temporary access key pair it was issued with. Set access_key and secret_key (or %s and %s), or remove the security token.",
				securityToken.where(), EnvAccessKey, EnvSecretKey))
	case !secretKey.set():
		diags.AddAttributeError(path.Root("secret_key"), "Missing CloudDC Secret Key",
			fmt.Sprintf("access_key is set (%s), but secret_key is not: requests are signed with the secret key. "+
				"Set %q in the provider block or the %s or %s environment variable.", accessKey.where(), "secret_key", EnvSecretKey, EnvHWSecretKey))
	case !accessKey.set():
		diags.AddAttributeError(path.Root("access_key"), "Missing CloudDC Access Key",
			fmt.Sprintf("secret_key is set (%s), but access_key is not: the access key names the key pair. "+
				"Set %q in the provider block or the %s or %s environment variable.", secretKey.where(), "access_key", EnvAccessKey, EnvHWAccessKey))
	case strings.ContainsAny(accessKey.value, ", \t\r\n"):
		// It goes into the Authorization header as Access=<AK>, where a
		// comma or white space would cut it. An AK is an ID, not a secret,
		// but it is not repeated: it may be a secret pasted in the wrong place.
		diags.AddAttributeError(path.Root("access_key"), "Invalid CloudDC Access Key",
			fmt.Sprintf("The access key (from %s) contains a comma or white space, which no access key ID has. "+
				"Check that the access key, not another value, is in it.", accessKey.where()))
	default:
		s.accessKey, s.secretKey, s.securityToken = accessKey.value, secretKey.value, securityToken.value
		kind := "an access key pair"
		if securityToken.set() {
			kind = "a temporary access key pair"
		}
		s.credentialsFrom = fmt.Sprintf("%s: access_key from %s, secret_key from %s", kind, accessKey.where(), secretKey.where())
		if securityToken.set() {
			s.credentialsFrom += ", security_token from " + securityToken.where()
		}
	}
}

// orList joins variable names with "or".
func orList(envs []string) string {
	return strings.Join(envs, " or ")
}

// checkEndpoint returns why an endpoint is unacceptable, or "": the
// client's rule (clouddc.CheckEndpoint), checked here too so that a bad
// value is an error at plan time that names the attribute.
func checkEndpoint(raw string) string {
	if err := clouddc.CheckEndpoint(raw); err != nil {
		return err.Error()
	}
	return ""
}

// insecureHTTPClient is an HTTP client that accepts any certificate.
func insecureHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()      //nolint:forcetypeassert // the default transport is always *http.Transport
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it, and is warned
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// endpointValidator checks a configured endpoint at plan time.
type endpointValidator struct{}

func (endpointValidator) Description(context.Context) string {
	return "must be an absolute https URL (http only for loopback hosts)"
}

func (v endpointValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (endpointValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.ConfigValue.ValueString() == "" {
		return
	}
	if msg := checkEndpoint(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid CloudDC Endpoint",
			fmt.Sprintf("endpoint: the endpoint %q %s.", clouddc.RedactURL(req.ConfigValue.ValueString()), msg))
	}
}
