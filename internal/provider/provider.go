// Package provider is the Terraform glue of the CloudDC provider: schemas,
// models, CRUD and diagnostics. Everything that talks to the API lives in
// internal/clouddc.
package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

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

// clouddcProvider is the provider. clientOptions are appended to the options
// the provider builds, which lets tests shorten the poll schedule.
type clouddcProvider struct {
	version       string
	clientOptions []clouddc.Option

	// Terraform configures a provider process once, but a test may serve one
	// provider to many commands: what Configure learned from the API is kept
	// here, so that each lookup and each check is made once per process
	// for the same settings.
	mu       sync.Mutex
	projects map[string]string   // settings key -> project ID found in IAM
	verified map[string]struct{} // settings key -> credentials proved good
}

// New returns a constructor of the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &clouddcProvider{version: version}
	}
}

// NewWithClientOptions is New for tests and harnesses that drive the
// provider in process (internal/chaos): opts are appended to the options of
// every API client the provider builds, after its own, so that they can
// scale its poll schedule, create lookup, retries and HTTP timeout down.
// The provider's binary uses New.
func NewWithClientOptions(version string, opts ...clouddc.Option) func() provider.Provider {
	return func() provider.Provider {
		return &clouddcProvider{version: version, clientOptions: opts}
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
	IAMEndpoint          types.String  `tfsdk:"iam_endpoint"`
	// SkipCredentialsValidation is named as in the AWS provider.
	SkipCredentialsValidation types.Bool `tfsdk:"skip_credentials_validation"`
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
					"the endpoint follows from the region as in the huaweicloud provider: `https://clouddc.{region}.myhuaweicloud.com`, " +
					"or `myhuaweicloud.eu` for `eu-west-101`. When `project_id` is unset, the project is the one named after the region " +
					"in IAM. A region the provider does not know is an error that lists the known ones; for a new region, set `endpoint` " +
					"(and `project_id` or `iam_endpoint`). Defaults to the `" + EnvRegion + "` environment variable, " +
					"then `" + EnvHWRegion + "` (the HuaweiCloud provider's).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.RegexMatches(regionRE, "must be a Huawei Cloud region name such as cn-east-3")},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "ID of the IAM project the instances belong to. Defaults to the `" + EnvProjectID + "` environment variable, " +
					"then `" + EnvHWProjectID + "`. When none of them is set, the provider looks up the project named after `region` " +
					"in IAM (`GET /v3/projects?name={region}`), once per run, as the huaweicloud provider does.",
				Optional: true,
			},
			"iam_endpoint": schema.StringAttribute{
				MarkdownDescription: "Base URL of IAM, where the project is looked up when `project_id` is unset, such as " +
					"`https://iam.cn-east-3.myhuaweicloud.com` (the default, which follows from `region`). Set it for a region the " +
					"provider does not know, or to use the local simulator's IAM. The same rules as for `endpoint` apply. " +
					"Defaults to the `" + EnvIAMEndpoint + "` environment variable.",
				Optional:   true,
				Validators: []validator.String{endpointValidator{}},
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
				MarkdownDescription: fmt.Sprintf("How many times a request that failed with a rate limit (429), a server error (500, 502, 503, 504), "+
					"a network error, or a listing that is not complete is retried, with exponential back-off and jitter (`Retry-After` is honoured, "+
					"up to a minute). Other errors, including a host name that does not resolve, a TLS failure and a redirect, are "+
					"never retried. Default: `%d`; `0` turns retries off. Defaults to the `%s` environment variable, then `%s`.",
					clouddc.DefaultRetryPolicy().MaxRetries, EnvMaxRetries, EnvHWMaxRetries),
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, maxRetriesLimit)},
			},
			"max_requests_per_second": schema.Float64Attribute{
				MarkdownDescription: "Spaces all requests of this provider so that they stay under this rate, shared by every resource " +
					"and data source, whatever Terraform's `-parallelism`. Unset means no client-side limit; set it below your account's API quota.",
				Optional:   true,
				Validators: []validator.Float64{float64validator.AtLeast(0.01)},
			},
			"insecure": schema.BoolAttribute{
				MarkdownDescription: "Skip the verification of the endpoint's TLS certificate. Only for testing against an endpoint " +
					"with a self-signed certificate: it lets anyone between you and the endpoint read the token. Default: `false`; " +
					"defaults to the `" + EnvInsecure + "` environment variable, then `" + EnvHWInsecure + "` (`true` or `false`).",
				Optional: true,
			},
			"skip_credentials_validation": schema.BoolAttribute{
				MarkdownDescription: "Skip the check of the credentials that the provider makes when it starts: one cheap request " +
					"(the first physical server of the project) that turns wrong credentials, a wrong project or an unreachable " +
					"endpoint into an error at plan time, before anything changes. Set it to plan without reaching the API, " +
					"such as with an endpoint that is not up yet. The project lookup (when `project_id` is unset) is made all the same. " +
					"Default: `false`; defaults to the `" + EnvSkipCredentialsValidation +
					"` environment variable (`true` or `false`).",
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

	// common are the options of every client: the CloudDC one and the
	// one-off IAM lookup.
	ua := fmt.Sprintf("terraform-provider-clouddc/%s terraform/%s", p.version, req.TerraformVersion)
	common := []clouddc.Option{
		clouddc.WithUserAgent(ua),
		clouddc.WithLogger(slog.New(newTFLogHandler(secrets...))),
	}
	auth := "token"
	if settings.token != "" {
		common = append(common, clouddc.WithToken(settings.token))
	} else {
		auth = "access key signature"
		common = append(common, clouddc.WithAKSK(settings.accessKey, settings.secretKey, settings.securityToken))
	}
	if settings.conn.maxRetriesSet {
		common = append(common, clouddc.WithMaxRetries(settings.conn.maxRetries))
	}
	if settings.conn.insecure {
		resp.Diagnostics.AddAttributeWarning(path.Root("insecure"), "TLS Certificate Verification Is Off",
			"insecure = true (from "+settings.conn.insecureFrom+"): the provider does not check the endpoint's certificate, so anyone "+
				"on the network path can pose as the API and read the token. Use it only against a test endpoint.")
		common = append(common, clouddc.WithHTTPClient(insecureHTTPClient()))
	}
	common = append(common, p.clientOptions...)

	projectID := settings.projectID
	if projectID == "" {
		id, ok := p.lookupProject(ctx, settings, common, &resp.Diagnostics)
		if !ok {
			return
		}
		projectID = id
	}

	opts := append([]clouddc.Option{clouddc.WithEndpoint(settings.endpoint), clouddc.WithProjectID(projectID)}, common...)
	if !cfg.MaxRequestsPerSecond.IsNull() && !cfg.MaxRequestsPerSecond.IsUnknown() {
		opts = append(opts, clouddc.WithRateLimit(cfg.MaxRequestsPerSecond.ValueFloat64()))
	}
	client, err := clouddc.NewClient(opts...)
	if err != nil {
		resp.Diagnostics.AddError("Unable to Create the CloudDC Client", err.Error())
		return
	}
	tflog.Debug(ctx, "configured the CloudDC client", map[string]any{"endpoint": clouddc.RedactURL(settings.endpoint), "region": settings.region,
		"project_id": projectID, "authentication": auth})
	if !settings.conn.skipCredentialsValidation && !p.checkCredentials(ctx, client, settings, projectID, &resp.Diagnostics) {
		return
	}
	data := &providerData{client: client}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.ListResourceData = data
	resp.ActionData = data
}

// cacheKey identifies settings for the caches of Configure. It is a hash,
// so that the caches hold no secret in the clear.
func cacheKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed, so that no two lists of parts make one key.
		_, _ = fmt.Fprintf(h, "%d:%s;", len(p), p) // a hash.Hash never fails to write
	}
	return hex.EncodeToString(h.Sum(nil))
}

// credentialKey is the part of a cache key that says who is asking.
func (s settings) credentialKey() []string {
	return []string{s.token, s.accessKey, s.secretKey, s.securityToken}
}

// lookupProject finds the project named after the region in IAM, once per
// process for the same IAM endpoint, region and credentials.
func (p *clouddcProvider) lookupProject(ctx context.Context, s settings, opts []clouddc.Option, diags *diag.Diagnostics) (string, bool) {
	key := cacheKey(append([]string{s.iamEndpoint, s.region}, s.credentialKey()...)...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.projects[key]; ok {
		return id, true
	}
	id, err := clouddc.LookupProjectID(ctx, s.iamEndpoint, s.region, opts...)
	if err != nil {
		var detail strings.Builder
		fmt.Fprintf(&detail, "project_id is unset, so the provider looked up the IAM project named %q (the region) at %s "+
			"with %s, and could not find it:\n\n%s", s.region, s.iamEndpoint, s.credentialSource(), describeError(err))
		if n := retriesMade(ctx, err, s); n > 0 {
			fmt.Fprintf(&detail, "\n\nThe request was retried %d times (max_retries).", n)
		}
		fmt.Fprintf(&detail, "\n\nSet project_id in the provider block (or %s or %s) to the project's ID, which the console shows "+
			"under My Credentials > Projects, and no lookup is made. The project is looked up in the region %q; "+
			"if that is not the region you meant, fix region (or %s or %s).", EnvProjectID, EnvHWProjectID, s.region, EnvRegion, EnvHWRegion)
		diags.AddAttributeError(path.Root("project_id"), "Unable to Look Up the CloudDC Project", detail.String())
		return "", false
	}
	if p.projects == nil {
		p.projects = map[string]string{}
	}
	p.projects[key] = id
	tflog.Info(ctx, "found the project of the region in IAM", map[string]any{"region": s.region, "project_id": id})
	return id, true
}

// checkCredentials proves the credentials, the project and the endpoint
// with one cheap request before anything is planned, so that a mistake is
// an error at plan time and not halfway through an apply. It runs once per
// process for the same settings.
func (p *clouddcProvider) checkCredentials(ctx context.Context, client *clouddc.Client, s settings, projectID string, diags *diag.Diagnostics) bool {
	key := cacheKey(append([]string{s.endpoint, projectID}, s.credentialKey()...)...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.verified[key]; ok {
		return true
	}
	if _, err := client.ListServers(ctx, clouddc.ListServersInput{Limit: 1}); err != nil {
		summary := "Unable to Check the CloudDC Credentials"
		if errors.Is(err, clouddc.ErrUnauthorized) || errors.Is(err, clouddc.ErrForbidden) {
			summary = "Invalid CloudDC Credentials"
		}
		var detail strings.Builder
		fmt.Fprintf(&detail, "Before planning, the provider checks its credentials (%s, project %s) with one request to %s: "+
			"listing the first physical server of the project. It failed:\n\n%s", s.credentialSource(), projectID, s.endpoint, describeError(err))
		if n := retriesMade(ctx, err, s); n > 0 {
			fmt.Fprintf(&detail, "\n\nThe request was retried %d times (max_retries) before the provider gave up.", n)
		} else {
			detail.WriteString("\n\nThe request was not retried: the same request would get the same answer.")
		}
		fmt.Fprintf(&detail, "\n\nNothing was planned or changed. To plan without this check (with an endpoint that is not up yet, "+
			"say), set skip_credentials_validation = true in the provider block or %s=true.", EnvSkipCredentialsValidation)
		diags.AddError(summary, detail.String())
		return false
	}
	if p.verified == nil {
		p.verified = map[string]struct{}{}
	}
	p.verified[key] = struct{}{}
	tflog.Debug(ctx, "the credentials were accepted", map[string]any{"endpoint": s.endpoint, "project_id": projectID})
	return true
}

// retriesMade is how many times the client retried a request that failed
// with err: every retry allowed when the error is one worth retrying (the
// client stops early only when ctx ends), none otherwise.
func retriesMade(ctx context.Context, err error, s settings) int {
	if ctx.Err() != nil || !clouddc.IsTransient(err) {
		return 0
	}
	if s.conn.maxRetriesSet {
		return s.conn.maxRetries
	}
	return clouddc.DefaultRetryPolicy().MaxRetries
}

func (p *clouddcProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewInstanceResource}
}

func (p *clouddcProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewInstanceDataSource, NewInstancesDataSource, NewPhysicalServersDataSource}
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
