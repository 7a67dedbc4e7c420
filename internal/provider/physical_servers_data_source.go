package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

var (
	_ datasource.DataSource              = (*physicalServersDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*physicalServersDataSource)(nil)
)

// NewPhysicalServersDataSource returns the clouddc_physical_servers data source.
func NewPhysicalServersDataSource() datasource.DataSource { return &physicalServersDataSource{} }

type physicalServersDataSource struct {
	client *clouddc.Client
}

type physicalServersModel struct {
	ManageState types.String          `tfsdk:"manage_state"`
	Servers     []physicalServerModel `tfsdk:"servers"`
	IDs         []string              `tfsdk:"ids"`
}

type physicalServerModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	ManageState types.String `tfsdk:"manage_state"`
	PowerState  types.String `tfsdk:"power_state"`
	OnboardTime types.String `tfsdk:"onboard_time"`
}

func (d *physicalServersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_physical_servers"
}

func (d *physicalServersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the project's physical servers and their state, so that you can place an instance on a " +
			"`ready` server with `clouddc_instance.server_id`.",
		Attributes: map[string]schema.Attribute{
			"manage_state": schema.StringAttribute{
				MarkdownDescription: "Only servers in this state: `ready` (free for a new instance) or `in-use` (hosting one).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(clouddc.ServerReady, clouddc.ServerInUse)},
			},
			"servers": schema.ListNestedAttribute{
				MarkdownDescription: "The matching servers.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":           str("Server ID."),
					"name":         str("Server name."),
					"manage_state": str("`ready` or `in-use` (other states such as `frozen` are reported as the API names them)."),
					"power_state":  str("`on`, `off`, `powering-on`, `powering-off` or `rebooting`."),
					"onboard_time": str("When the server was put into service (RFC 3339)."),
				}},
			},
			"ids": schema.ListAttribute{
				MarkdownDescription: "The IDs of the matching servers, in the order of `servers`.",
				Computed:            true,
				ElementType:         types.StringType,
			},
		},
	}
}

func (d *physicalServersDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if c := configureClient(req.ProviderData, &resp.Diagnostics); c != nil {
		d.client = c
	}
}

func (d *physicalServersDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg physicalServersModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	servers, err := d.client.ListAllServers(ctx, cfg.ManageState.ValueString())
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to List Physical Servers", err)
		return
	}
	cfg.Servers, cfg.IDs = []physicalServerModel{}, []string{}
	for _, s := range servers {
		cfg.Servers = append(cfg.Servers, physicalServerModel{
			ID: types.StringValue(s.ID), Name: types.StringValue(s.Name), ManageState: types.StringValue(s.ManageState),
			PowerState: types.StringValue(s.PowerState), OnboardTime: types.StringValue(s.OnboardTime),
		})
		cfg.IDs = append(cfg.IDs, s.ID)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}
