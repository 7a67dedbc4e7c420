package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

var (
	_ datasource.DataSource                     = (*instanceDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*instanceDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*instanceDataSource)(nil)
)

// NewInstanceDataSource returns the clouddc_instance data source.
func NewInstanceDataSource() datasource.DataSource { return &instanceDataSource{} }

type instanceDataSource struct {
	client *clouddc.Client
}

// instanceDataModel is an instance as the data sources report it.
type instanceDataModel struct {
	ID                types.String       `tfsdk:"id"`
	Name              types.String       `tfsdk:"name"`
	ImageID           types.String       `tfsdk:"image_id"`
	ImageName         types.String       `tfsdk:"image_name"`
	OSType            types.String       `tfsdk:"os_type"`
	VPCID             types.String       `tfsdk:"vpc_id"`
	NetworkInterfaces []nicDataModel     `tfsdk:"network_interfaces"`
	Description       types.String       `tfsdk:"description"`
	Metadata          map[string]string  `tfsdk:"metadata"`
	CreateToken       types.String       `tfsdk:"create_token"`
	Tags              map[string]string  `tfsdk:"tags"`
	ServerID          types.String       `tfsdk:"server_id"`
	State             types.String       `tfsdk:"state"`
	OperationState    types.String       `tfsdk:"operation_state"`
	PowerState        types.String       `tfsdk:"power_state"`
	CreatedAt         types.String       `tfsdk:"created_at"`
	UpdatedAt         types.String       `tfsdk:"updated_at"`
	LaunchedAt        types.String       `tfsdk:"launched_at"`
	Error             *instanceErrorData `tfsdk:"error"`
}

type nicDataModel struct {
	SubnetID    types.String `tfsdk:"subnet_id"`
	IPv4Address types.String `tfsdk:"ipv4_address"`
}

type instanceErrorData struct {
	Code    types.String `tfsdk:"error_code"`
	Message types.String `tfsdk:"error_msg"`
	Type    types.String `tfsdk:"error_type"`
}

func newInstanceData(in *clouddc.Instance) instanceDataModel {
	m := instanceDataModel{
		ID: types.StringValue(in.ID), Name: types.StringValue(in.Name),
		ImageID: types.StringValue(in.Image.ID), ImageName: types.StringValue(in.Image.Name), OSType: types.StringValue(in.Image.OSType),
		VPCID: types.StringValue(in.VPCID), Description: types.StringValue(in.Description),
		Metadata: userMetadata(in.Metadata), CreateToken: types.StringValue(in.Metadata[clouddc.CreateTokenKey]), Tags: map[string]string{},
		ServerID: types.StringValue(in.ServerID), State: types.StringValue(string(in.State)),
		OperationState: types.StringValue(in.OperationState), PowerState: types.StringValue(powerOf(in.State)),
		CreatedAt: types.StringValue(in.CreatedAt), UpdatedAt: types.StringValue(in.UpdatedAt), LaunchedAt: types.StringValue(in.LaunchedAt),
		NetworkInterfaces: []nicDataModel{},
	}
	if m.Metadata == nil {
		m.Metadata = map[string]string{}
	}
	for _, t := range in.Tags {
		m.Tags[t.Key] = t.Value
	}
	for _, n := range in.NetworkInterfaces {
		m.NetworkInterfaces = append(m.NetworkInterfaces, nicDataModel{SubnetID: types.StringValue(n.SubnetID), IPv4Address: types.StringValue(n.IPv4Address)})
	}
	if in.Error != nil {
		m.Error = &instanceErrorData{Code: types.StringValue(in.Error.Code), Message: types.StringValue(in.Error.Message), Type: types.StringValue(in.Error.Type)}
	}
	return m
}

// instanceDataAttributes are the attributes of an instance in the data
// sources. lookup marks id and name as arguments of the single-instance
// data source rather than results.
func instanceDataAttributes(lookup bool) map[string]schema.Attribute {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	attrs := map[string]schema.Attribute{
		"id":              str("Instance ID."),
		"name":            str("Instance name."),
		"image_id":        str("ID of the installed image."),
		"image_name":      str("Name of the installed image."),
		"os_type":         str("Operating system family: `Linux`, `Windows` or `Other`."),
		"vpc_id":          str("ID of the instance's VPC."),
		"description":     str("Description."),
		"server_id":       str("ID of the physical server hosting the instance."),
		"state":           str("Lifecycle state, such as `running`."),
		"operation_state": str("Progress of the last long-running operation."),
		"power_state":     str("`on` when the instance runs, `off` when it is stopped, empty in other states."),
		"created_at":      str("Creation time (RFC 3339, UTC)."),
		"updated_at":      str("Time of the last change (RFC 3339, UTC)."),
		"launched_at":     str("Time the operating system was last installed (RFC 3339, UTC)."),
		"metadata": schema.MapAttribute{
			MarkdownDescription: "Metadata of the instance, without the provider's create token (see `create_token`).",
			Computed:            true, ElementType: types.StringType,
		},
		"create_token": str("The token the provider stored under the reserved metadata key `" + clouddc.CreateTokenKey + "` when it " +
			"created the instance, which proves which create made it; empty for an instance created otherwise. An error of an " +
			"uncertain create names the token, so that its instance can be found here."),
		"tags": schema.MapAttribute{
			MarkdownDescription: "Tags of the instance (read-only in CloudDC).", Computed: true, ElementType: types.StringType,
		},
		"network_interfaces": schema.ListNestedAttribute{
			MarkdownDescription: "Network interfaces, the primary one first.",
			Computed:            true,
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"subnet_id":    str("Subnet ID."),
				"ipv4_address": str("IPv4 address."),
			}},
		},
		"error": schema.SingleNestedAttribute{
			MarkdownDescription: "The error of the last operation, when it failed.",
			Computed:            true,
			Attributes: map[string]schema.Attribute{
				"error_code": str("Error code."),
				"error_msg":  str("Error message."),
				"error_type": str("Which operation failed, such as `create_instance_error`."),
			},
		},
	}
	if lookup {
		attrs["id"] = schema.StringAttribute{
			MarkdownDescription: "ID of the instance to read. Exactly one of `id` and `name` must be set.",
			Optional:            true, Computed: true,
			Validators: []validator.String{validUUID()},
		}
		attrs["name"] = schema.StringAttribute{
			MarkdownDescription: "Exact name of the instance to read. It is an error when no instance, or more than one, has this name " +
				"(terminated instances are not counted).",
			Optional: true, Computed: true,
		}
	}
	return attrs
}

func (d *instanceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance"
}

func (d *instanceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one iMetal instance, by ID or by exact name.",
		Attributes:          instanceDataAttributes(true),
	}
}

func (d *instanceDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
}

func (d *instanceDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if c := configureClient(req.ProviderData, &resp.Diagnostics); c != nil {
		d.client = c
	}
}

func (d *instanceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg instanceDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found *clouddc.Instance
	if id := cfg.ID.ValueString(); id != "" {
		inst, err := d.client.GetInstance(ctx, id)
		if errors.Is(err, clouddc.ErrNotFound) {
			resp.Diagnostics.AddAttributeError(path.Root("id"), "Instance Not Found", fmt.Sprintf("No instance has the ID %s in this project.", id))
			return
		}
		if err != nil {
			addClientError(&resp.Diagnostics, "Unable to Read Instance", err)
			return
		}
		found = inst
	} else {
		name := cfg.Name.ValueString()
		all, err := d.client.ListAllInstances(ctx, clouddc.ListInstancesInput{})
		if err != nil {
			addClientError(&resp.Diagnostics, "Unable to List Instances", err)
			return
		}
		var matches []*clouddc.Instance
		for i := range all {
			if all[i].Name == name && all[i].State != clouddc.StateTerminated {
				matches = append(matches, &all[i])
			}
		}
		switch len(matches) {
		case 0:
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Instance Not Found",
				fmt.Sprintf("No instance in this project is named %q.", name))
			return
		case 1:
			found = matches[0]
		default:
			ids := make([]string, len(matches))
			for i, m := range matches {
				ids[i] = m.ID
			}
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Several Instances Have This Name",
				fmt.Sprintf("%d instances are named %q (%s). Instance names are not unique in CloudDC: read the one you mean by id instead.",
					len(matches), name, strings.Join(ids, ", ")))
			return
		}
	}
	m := newInstanceData(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
