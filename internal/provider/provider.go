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
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
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

// Environment variables that supply the provider's settings.
const (
	EnvEndpoint  = "CLOUDDC_ENDPOINT"
	EnvProjectID = "CLOUDDC_PROJECT_ID"
	EnvToken     = "CLOUDDC_TOKEN" //nolint:gosec // G101: the name of a variable, not a token
)

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
	ProjectID            types.String  `tfsdk:"project_id"`
	Token                types.String  `tfsdk:"token"`
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
					"so that the token never crosses a network in clear text. Defaults to the `" + EnvEndpoint + "` environment variable.",
				Optional:   true,
				Validators: []validator.String{endpointValidator{}},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "ID of the IAM project the instances belong to. Defaults to the `" + EnvProjectID + "` environment variable.",
				Optional:            true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "IAM token sent as `X-Auth-Token`. IAM tokens are valid for 24 hours. " +
					"Defaults to the `" + EnvToken + "` environment variable; prefer the variable, so that the token stays out of your configuration.",
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
	ctx = tflog.MaskAllFieldValuesStrings(ctx, settings.token)

	ua := fmt.Sprintf("terraform-provider-clouddc/%s terraform/%s", p.version, req.TerraformVersion)
	opts := []clouddc.Option{
		clouddc.WithEndpoint(settings.endpoint),
		clouddc.WithProjectID(settings.projectID),
		clouddc.WithToken(settings.token),
		clouddc.WithUserAgent(ua),
		clouddc.WithLogger(slog.New(newTFLogHandler(settings.token))),
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
	tflog.Debug(ctx, "configured the CloudDC client", map[string]any{"endpoint": settings.endpoint, "project_id": settings.projectID})
	data := &providerData{client: client}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *clouddcProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewInstanceResource}
}

func (p *clouddcProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewInstanceDataSource, NewInstancesDataSource, NewPhysicalServersDataSource}
}

type settings struct {
	endpoint, projectID, token string
}

// resolveSettings picks each setting from the configuration, falling back to
// the environment, and checks the result. Every problem is an attribute
// error that names the attribute and its environment variable.
func resolveSettings(cfg providerModel, getenv func(string) string) (settings, diag.Diagnostics) {
	var diags diag.Diagnostics
	pick := func(v types.String, attr, env, what string) string {
		if v.IsUnknown() {
			diags.AddAttributeError(path.Root(attr), "Unknown CloudDC "+what,
				fmt.Sprintf("The provider cannot be configured while %q is unknown: it depends on a value that is known only after apply. "+
					"Set it to a literal or a variable, or set the %s environment variable instead.", attr, env))
			return ""
		}
		if s := v.ValueString(); !v.IsNull() && s != "" {
			return s
		}
		if s := getenv(env); s != "" {
			return s
		}
		diags.AddAttributeError(path.Root(attr), "Missing CloudDC "+what,
			fmt.Sprintf("The provider needs the CloudDC %s. Set %q in the provider block or the %s environment variable.", what, attr, env))
		return ""
	}
	s := settings{
		endpoint:  pick(cfg.Endpoint, "endpoint", EnvEndpoint, "endpoint"),
		projectID: pick(cfg.ProjectID, "project_id", EnvProjectID, "project ID"),
		token:     pick(cfg.Token, "token", EnvToken, "token"),
	}
	if s.endpoint != "" {
		if msg := checkEndpoint(s.endpoint); msg != "" {
			source := "endpoint"
			if cfg.Endpoint.IsNull() || cfg.Endpoint.ValueString() == "" {
				source = "endpoint (from " + EnvEndpoint + ")"
			}
			diags.AddAttributeError(path.Root("endpoint"), "Invalid CloudDC endpoint", fmt.Sprintf("%s: the endpoint %q %s.", source, s.endpoint, msg))
		}
	}
	if s.projectID != "" && strings.ContainsAny(s.projectID, "/?#% \t\n") {
		diags.AddAttributeError(path.Root("project_id"), "Invalid CloudDC project ID",
			fmt.Sprintf("project_id: the project ID %q contains characters that cannot be part of an IAM project ID ('/', '?', '#', '%%' or white space).", s.projectID))
	}
	return s, diags
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
