package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

var (
	_ datasource.DataSource              = (*instancesDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*instancesDataSource)(nil)
)

// NewInstancesDataSource returns the clouddc_instances data source.
func NewInstancesDataSource() datasource.DataSource { return &instancesDataSource{} }

type instancesDataSource struct {
	client *clouddc.Client
}

type instancesDataModel struct {
	State       types.String        `tfsdk:"state"`
	InstanceIDs []string            `tfsdk:"instance_ids"`
	ServerIDs   []string            `tfsdk:"server_ids"`
	NameRegex   types.String        `tfsdk:"name_regex"`
	Instances   []instanceDataModel `tfsdk:"instances"`
	IDs         []string            `tfsdk:"ids"`
}

// instanceStates are the states a filter may name.
var instanceStates = []string{"pending", "running", "stopped", "shutting-down", "terminated", "error"}

func (d *instancesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instances"
}

func (d *instancesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the project's iMetal instances, reading every page, optionally filtered. Filters combine: an instance " +
			"is listed when it matches all of them. Instances that are being deleted or are deleted (`shutting-down`, `terminated`) " +
			"are left out unless `state` asks for them.\n\n" +
			"The ID filters are lists, as in the `clouddc_instance` list resource; their order and repetitions do not matter.",
		Attributes: map[string]schema.Attribute{
			"state": schema.StringAttribute{
				MarkdownDescription: filterStateDescription,
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(instanceStates...)},
			},
			"instance_ids": schema.ListAttribute{
				MarkdownDescription: filterInstanceIDsDescription,
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.List{listvalidator.ValueStringsAre(validUUID())},
			},
			"server_ids": schema.ListAttribute{
				MarkdownDescription: filterServerIDsDescription,
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.List{listvalidator.ValueStringsAre(validUUID())},
			},
			"name_regex": schema.StringAttribute{
				MarkdownDescription: filterNameRegexDescription,
				Optional:            true,
				Validators:          []validator.String{regexValidator{}},
			},
			"instances": schema.ListNestedAttribute{
				MarkdownDescription: "The matching instances, oldest first.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: instanceDataAttributes(false)},
			},
			"ids": schema.ListAttribute{
				MarkdownDescription: "The IDs of the matching instances, in the order of `instances`.",
				Computed:            true,
				ElementType:         types.StringType,
			},
		},
	}
}

func (d *instancesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if c := configureClient(req.ProviderData, &resp.Diagnostics); c != nil {
		d.client = c
	}
}

func (d *instancesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg instancesDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var nameRE *regexp.Regexp
	if s := cfg.NameRegex.ValueString(); s != "" {
		re, err := regexp.Compile(s)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("name_regex"), "Invalid Regular Expression", err.Error())
			return
		}
		nameRE = re
	}
	found, err := findInstances(ctx, d.client, instanceFilter{
		State: cfg.State.ValueString(), InstanceIDs: cfg.InstanceIDs, ServerIDs: cfg.ServerIDs, NameRegex: nameRE,
	})
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to List Instances", err)
		return
	}
	cfg.Instances = []instanceDataModel{}
	cfg.IDs = []string{}
	for i := range found {
		cfg.Instances = append(cfg.Instances, newInstanceData(&found[i]))
		cfg.IDs = append(cfg.IDs, found[i].ID)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}

// regexValidator checks that a string compiles as a Go regular expression.
type regexValidator struct{}

func (regexValidator) Description(context.Context) string { return "a valid regular expression" }
func (v regexValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (regexValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := regexp.Compile(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Regular Expression",
			fmt.Sprintf("name_regex %q is not a valid regular expression: %v", req.ConfigValue.ValueString(), err))
	}
}
