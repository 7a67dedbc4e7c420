// Package provider is the Terraform glue of the CloudDC provider: schemas,
// models, CRUD and diagnostics. Everything that talks to the API lives in
// internal/clouddc.
package provider

import (
	"context"
	"fmt"
	"log/slog"
	"os"

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
