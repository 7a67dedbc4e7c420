// Package provider is the Terraform glue of the CloudDC provider: schemas,
// models, CRUD and diagnostics. Everything that talks to the API lives in
// internal/clouddc.
package provider

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

var (
	_ provider.Provider = (*clouddcProvider)(nil)
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
)

// regionRE is the shape of a Huawei Cloud region name: cn-east-3,
// ap-southeast-3, la-north-2. The endpoint is derived from it, so anything
// else would make a host name nobody meant.
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// regionEndpoint is CloudDC's endpoint in a region.
func regionEndpoint(region string) string {
	return "https://clouddc." + region + ".myhuaweicloud.com"
}

// clouddcProvider is the provider. clientOptions are appended to the options
// the provider builds, which lets tests shorten the poll schedule.
type clouddcProvider struct {
	version       string
	clientOptions []clouddc.Option
}

// New returns a constructor of the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &clouddcProvider{version: version}
	}
}

type providerModel struct {
	Endpoint             types.String  `tfsdk:"endpoint"`
	Region               types.String  `tfsdk:"region"`
	ProjectID            types.String  `tfsdk:"project_id"`
	Token                types.String  `tfsdk:"token"`
	AccessKey            types.String  `tfsdk:"access_key"`
	SecretKey            types.String  `tfsdk:"secret_key"`
	SecurityToken        types.String  `tfsdk:"security_token"`
	MaxRetries           types.Int64   `tfsdk:"max_retries"`
	MaxRequestsPerSecond types.Float64 `tfsdk:"max_requests_per_second"`
	Insecure             types.Bool    `tfsdk:"insecure"`
}

// providerData is what resources and data sources receive in Configure.
type providerData struct {
	client *clouddc.Client
}

func (p *clouddcProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "clouddc"
	resp.Version = p.version
}

func (p *clouddcProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The CloudDC provider manages iMetal instances of Huawei Cloud's CloudDC service: " +
			"operating systems provisioned onto your own physical servers in cloud equipment rooms.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Base URL of the CloudDC API, such as `https://clouddc.cn-east-3.myhuaweicloud.com`. " +
					"It must use `https`; plain `http` is accepted only for a loopback address (the local simulator), " +
					"so that credentials never cross a network in clear text. Defaults to the `" + EnvEndpoint + "` environment variable; " +
					"when neither is set, the endpoint follows from `region`.",
				Optional:   true,
				Validators: []validator.String{endpointValidator{}},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Huawei Cloud region, such as `cn-east-3`. When `endpoint` is unset (in the block and in `" + EnvEndpoint + "`), " +
					"the endpoint is `https://clouddc.{region}.myhuaweicloud.com`. Defaults to the `" + EnvRegion + "` environment variable, " +
					"then `" + EnvHWRegion + "` (the HuaweiCloud provider's).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.RegexMatches(regionRE, "must be a Huawei Cloud region name such as cn-east-3")},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "ID of the IAM project the instances belong to. Defaults to the `" + EnvProjectID + "` environment variable, " +
					"then `" + EnvHWProjectID + "`.",
				Optional: true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "IAM token sent as `X-Auth-Token`. IAM tokens are valid for 24 hours. " +
					"Use either a token or `access_key` and `secret_key`. Defaults to the `" + EnvToken + "` environment variable, then `" +
					EnvHWAuthToken + "`; prefer a variable, so that the token stays out of your configuration.",
				Optional:  true,
				Sensitive: true,
			},
			"access_key": schema.StringAttribute{
				MarkdownDescription: "Access key ID (AK) of an IAM access key pair. With `secret_key`, the provider signs every request " +
					"(Huawei Cloud's SDK-HMAC-SHA256 AK/SK signing) instead of sending a token. Defaults to the `" + EnvAccessKey +
					"` environment variable, then `" + EnvHWAccessKey + "`.",
				Optional: true,
			},
			"secret_key": schema.StringAttribute{
				MarkdownDescription: "Secret access key (SK) of the access key pair; it signs requests and is never sent. Defaults to the `" +
					EnvSecretKey + "` environment variable, then `" + EnvHWSecretKey + "`; prefer a variable, so that the key stays out of your configuration.",
				Optional:  true,
				Sensitive: true,
			},
			"security_token": schema.StringAttribute{
				MarkdownDescription: "Security token of a temporary access key pair (IAM temporary credentials), sent as `X-Security-Token`. " +
					"Only together with `access_key` and `secret_key`. Defaults to the `" + EnvSecurityToken + "` environment variable, then `" +
					EnvHWSecurityToken + "`.",
				Optional:  true,
				Sensitive: true,
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many times a request that failed with a rate limit (429), a server error (500, 502, 503, 504) "+
					"or a network error is retried, with exponential back-off and jitter (`Retry-After` is honoured). Other errors are "+
					"never retried. Default: `%d`; `0` turns retries off.", clouddc.DefaultRetryPolicy().MaxRetries),
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, 100)},
			},
			"max_requests_per_second": schema.Float64Attribute{
				MarkdownDescription: "Spaces all requests of this provider so that they stay under this rate, shared by every resource " +
					"and data source, whatever Terraform's `-parallelism`. Unset means no client-side limit; set it below your account's API quota.",
				Optional:   true,
				Validators: []validator.Float64{float64validator.AtLeast(0.01)},
			},
			"insecure": schema.BoolAttribute{
				MarkdownDescription: "Skip the verification of the endpoint's TLS certificate. Only for testing against an endpoint " +
					"with a self-signed certificate: it lets anyone between you and the endpoint read the token. Default: `false`.",
				Optional: true,
			},
		},
	}
}

func (p *clouddcProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	settings, diags := resolveSettings(cfg, os.Getenv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	secrets := settings.secrets()
	if len(secrets) > 0 {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, secrets...)
	}

	ua := fmt.Sprintf("terraform-provider-clouddc/%s terraform/%s", p.version, req.TerraformVersion)
	opts := []clouddc.Option{
		clouddc.WithEndpoint(settings.endpoint),
		clouddc.WithProjectID(settings.projectID),
		clouddc.WithUserAgent(ua),
		clouddc.WithLogger(slog.New(newTFLogHandler(secrets...))),
	}
	auth := "token"
	if settings.token != "" {
		opts = append(opts, clouddc.WithToken(settings.token))
	} else {
		auth = "access key signature"
		opts = append(opts, clouddc.WithAKSK(settings.accessKey, settings.secretKey, settings.securityToken))
	}
	if !cfg.MaxRetries.IsNull() && !cfg.MaxRetries.IsUnknown() {
		opts = append(opts, clouddc.WithMaxRetries(int(cfg.MaxRetries.ValueInt64())))
	}
	if !cfg.MaxRequestsPerSecond.IsNull() && !cfg.MaxRequestsPerSecond.IsUnknown() {
		opts = append(opts, clouddc.WithRateLimit(cfg.MaxRequestsPerSecond.ValueFloat64()))
	}
	if cfg.Insecure.ValueBool() {
		resp.Diagnostics.AddAttributeWarning(path.Root("insecure"), "TLS Certificate Verification Is Off",
			"insecure = true: the provider does not check the endpoint's certificate, so anyone on the network path "+
				"can pose as the API and read the token. Use it only against a test endpoint.")
		opts = append(opts, clouddc.WithHTTPClient(insecureHTTPClient()))
	}
	client, err := clouddc.NewClient(append(opts, p.clientOptions...)...)
	if err != nil {
		resp.Diagnostics.AddError("Unable to Create the CloudDC Client", err.Error())
		return
	}
	tflog.Debug(ctx, "configured the CloudDC client", map[string]any{"endpoint": settings.endpoint, "region": settings.region,
		"project_id": settings.projectID, "authentication": auth})
	data := &providerData{client: client}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.ListResourceData = data
	resp.ActionData = data
}

func (p *clouddcProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewInstanceResource}
}

func (p *clouddcProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewInstanceDataSource, NewInstancesDataSource, NewPhysicalServersDataSource}
}

// settings are the provider's resolved settings. Exactly one way to
// authenticate is filled in: token, or accessKey and secretKey (with
// securityToken for a temporary key pair).
type settings struct {
	endpoint, region, projectID         string
	token                               string
	accessKey, secretKey, securityToken string
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
	endpoint := lookup(cfg.Endpoint, "endpoint", "endpoint", EnvEndpoint)
	region := lookup(cfg.Region, "region", "region", EnvRegion, EnvHWRegion)
	project := lookup(cfg.ProjectID, "project_id", "project ID", EnvProjectID, EnvHWProjectID)
	token := lookup(cfg.Token, "token", "token", EnvToken, EnvHWAuthToken)
	accessKey := lookup(cfg.AccessKey, "access_key", "access key", EnvAccessKey, EnvHWAccessKey)
	secretKey := lookup(cfg.SecretKey, "secret_key", "secret key", EnvSecretKey, EnvHWSecretKey)
	securityToken := lookup(cfg.SecurityToken, "security_token", "security token", EnvSecurityToken, EnvHWSecurityToken)

	s := settings{region: region.value, projectID: project.value}
	resolveEndpoint(&s, endpoint, region, &diags)

	switch {
	case project.unknown:
	case !project.set():
		diags.AddAttributeError(path.Root("project_id"), "Missing CloudDC project ID",
			fmt.Sprintf("The provider needs the IAM project ID. Set %q in the provider block, or the %s or %s environment variable.",
				"project_id", EnvProjectID, EnvHWProjectID))
	case strings.ContainsAny(s.projectID, "/?#% \t\n"):
		diags.AddAttributeError(path.Root("project_id"), "Invalid CloudDC project ID",
			fmt.Sprintf("project_id: the project ID %q (from %s) contains characters that cannot be part of an IAM project ID ('/', '?', '#', '%%' or white space).",
				s.projectID, project.where()))
	}

	if !token.unknown && !accessKey.unknown && !secretKey.unknown && !securityToken.unknown {
		resolveCredentials(&s, token, accessKey, secretKey, securityToken, &diags)
	}
	return s, diags
}

// resolveEndpoint sets s.endpoint from endpoint, or else from region.
func resolveEndpoint(s *settings, endpoint, region setting, diags *diag.Diagnostics) {
	switch {
	case endpoint.unknown:
	case endpoint.set():
		s.endpoint = endpoint.value
		if msg := checkEndpoint(endpoint.value); msg != "" {
			source := "endpoint"
			if endpoint.level != fromConfig {
				source = "endpoint (from " + endpoint.source + ")"
			}
			diags.AddAttributeError(path.Root("endpoint"), "Invalid CloudDC endpoint", fmt.Sprintf("%s: the endpoint %q %s.", source, endpoint.value, msg))
		}
	case region.unknown:
	case region.set():
		// A region set only in the environment is checked here, when it
		// is used; the block's value was checked at plan time already.
		if !regionRE.MatchString(region.value) {
			diags.AddAttributeError(path.Root("region"), "Invalid CloudDC region",
				fmt.Sprintf("region: %q (from %s) is not a Huawei Cloud region name such as cn-east-3, so no endpoint can be derived from it. "+
					"Fix the region, or set endpoint to the API's URL.", region.value, region.where()))
			return
		}
		s.endpoint = regionEndpoint(region.value)
	default:
		diags.AddAttributeError(path.Root("endpoint"), "Missing CloudDC endpoint",
			fmt.Sprintf("The provider needs to know where the CloudDC API is. Set %q in the provider block or the %s environment variable "+
				"to the API's URL, or set %q (or the %s or %s environment variable) to a region such as cn-east-3, "+
				"from which the endpoint %s follows.", "endpoint", EnvEndpoint, "region", EnvRegion, EnvHWRegion, regionEndpoint("{region}")))
	}
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
		diags.AddAttributeError(path.Root("token"), "Missing CloudDC credentials",
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
		diags.AddAttributeError(path.Root("secret_key"), "Missing CloudDC secret key",
			fmt.Sprintf("access_key is set (%s), but secret_key is not: requests are signed with the secret key. "+
				"Set %q in the provider block or the %s or %s environment variable.", accessKey.where(), "secret_key", EnvSecretKey, EnvHWSecretKey))
	case !accessKey.set():
		diags.AddAttributeError(path.Root("access_key"), "Missing CloudDC access key",
			fmt.Sprintf("secret_key is set (%s), but access_key is not: the access key names the key pair. "+
				"Set %q in the provider block or the %s or %s environment variable.", secretKey.where(), "access_key", EnvAccessKey, EnvHWAccessKey))
	case strings.ContainsAny(accessKey.value, ", \t\r\n"):
		// It goes into the Authorization header as Access=<AK>, where a
		// comma or white space would cut it. An AK is an ID, not a secret,
		// but it is not repeated: it may be a secret pasted in the wrong place.
		diags.AddAttributeError(path.Root("access_key"), "Invalid CloudDC access key",
			fmt.Sprintf("The access key (from %s) contains a comma or white space, which no access key ID has. "+
				"Check that the access key, not another value, is in it.", accessKey.where()))
	default:
		s.accessKey, s.secretKey, s.securityToken = accessKey.value, secretKey.value, securityToken.value
	}
}

// orList joins variable names with "or".
func orList(envs []string) string {
	return strings.Join(envs, " or ")
}

// checkEndpoint returns why an endpoint is unacceptable, or "".
func checkEndpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "is not an absolute URL such as https://clouddc.cn-east-3.myhuaweicloud.com"
	}
	if u.User != nil {
		return "must not contain user information; the token goes in the token argument"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "must not have a query string or a fragment"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if isLoopback(u.Hostname()) {
			return ""
		}
		return "uses plain http to a host that is not loopback; use https so that the token is not sent in clear text " +
			"(plain http is accepted only for 127.0.0.1, ::1 and localhost, such as the local simulator)"
	default:
		return fmt.Sprintf("has the scheme %q; use https", u.Scheme)
	}
}

// insecureHTTPClient is an HTTP client that accepts any certificate.
func insecureHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()      //nolint:forcetypeassert // the default transport is always *http.Transport
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it, and is warned
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid CloudDC endpoint",
			fmt.Sprintf("endpoint: the endpoint %q %s.", req.ConfigValue.ValueString(), msg))
	}
}

// configureClient extracts the client from provider data in a resource's or
// data source's Configure.
func configureClient(data any, diags *diag.Diagnostics) *clouddc.Client {
	if data == nil {
		return nil // the provider is not configured yet (validation, import)
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return pd.client
}
