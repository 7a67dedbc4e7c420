package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
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
	State     types.String        `tfsdk:"state"`
	IDs       []string            `tfsdk:"ids"`
	ServerIDs []string            `tfsdk:"server_ids"`
	NameRegex types.String        `tfsdk:"name_regex"`
	Instances []instanceDataModel `tfsdk:"instances"`
	FoundIDs  []string            `tfsdk:"found_ids"`
}

// instanceStates are the states a filter may name.
var instanceStates = []string{"pending", "running", "stopped", "shutting-down", "terminated", "error"}

func (d *instancesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instances"
}

func (d *instancesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the project's iMetal instances, reading every page, optionally filtered. Filters combine: an instance " +
			"is listed when it matches all of them.",
		Attributes: map[string]schema.Attribute{
			"state": schema.StringAttribute{
				MarkdownDescription: "Only instances in this state: `pending`, `running`, `stopped`, `shutting-down`, `terminated` or `error`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(instanceStates...)},
			},
			"ids": schema.SetAttribute{
				MarkdownDescription: "Only instances with these IDs.",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.Set{setvalidator.ValueStringsAre(validUUID())},
			},
			"server_ids": schema.SetAttribute{
				MarkdownDescription: "Only instances on these physical servers.",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.Set{setvalidator.ValueStringsAre(validUUID())},
			},
			"name_regex": schema.StringAttribute{
				MarkdownDescription: "Only instances whose name matches this regular expression ([Go syntax](https://pkg.go.dev/regexp/syntax)); " +
					"anchor it with `^...$` for a whole-name match.",
				Optional:   true,
				Validators: []validator.String{regexValidator{}},
			},
			"instances": schema.ListNestedAttribute{
				MarkdownDescription: "The matching instances, oldest first.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: instanceDataAttributes(false)},
			},
			"found_ids": schema.ListAttribute{
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
		State: cfg.State.ValueString(), IDs: cfg.IDs, ServerIDs: cfg.ServerIDs, NameRegex: nameRE,
	})
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to List Instances", err)
		return
	}
	cfg.Instances = []instanceDataModel{}
	cfg.FoundIDs = []string{}
	for i := range found {
		cfg.Instances = append(cfg.Instances, newInstanceData(&found[i]))
		cfg.FoundIDs = append(cfg.FoundIDs, found[i].ID)
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
