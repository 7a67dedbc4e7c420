package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

var (
	_ list.ListResource              = (*instanceListResource)(nil)
	_ list.ListResourceWithConfigure = (*instanceListResource)(nil)
)

// NewInstanceListResource returns the clouddc_instance list resource, which
// `terraform query` (Terraform 1.14 and later) uses to find instances to
// import.
func NewInstanceListResource() list.ListResource { return &instanceListResource{} }

type instanceListResource struct {
	client *clouddc.Client
}

// instanceListModel is the configuration of a list "clouddc_instance"
// block: the filters of the clouddc_instances data source.
type instanceListModel struct {
	State     types.String `tfsdk:"state"`
	IDs       []string     `tfsdk:"ids"`
	ServerIDs []string     `tfsdk:"server_ids"`
	NameRegex types.String `tfsdk:"name_regex"`
}

func (r *instanceListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance"
}

func (r *instanceListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds the project's iMetal instances for `terraform query`, reading every page of the API, so that " +
			"instances installed by hand or in the console can be brought under Terraform: " +
			"`terraform query -generate-config-out=instances.tf` writes a `clouddc_instance` resource and an `import` block " +
			"(by identity) for each. **Needs Terraform 1.14 or later.**\n\n" +
			"Filters combine: an instance is listed when it matches all of them. Terminated instances (which the API shows for a " +
			"while after their deletion) are left out unless `state = \"terminated\"` asks for them. Terraform stops after the " +
			"list block's `limit` results (100 unless set).\n\n" +
			"The API never returns an instance's password, so the generated configuration has `password = null`: set `password` " +
			"(or `password_wo` and `password_wo_version`) in each resource before planning. The first apply after the import " +
			"then sets that password on the instance (ChangeInstancePassword), which takes effect at the server's next " +
			"power-on or reboot. The generated resources also pin `power_state` to the power each instance has now; remove it " +
			"from those whose power you leave to actions or to the console.",
		Attributes: map[string]schema.Attribute{
			"state": schema.StringAttribute{
				MarkdownDescription: "Only instances in this state: `pending`, `running`, `stopped`, `shutting-down`, `terminated` or `error`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(instanceStates...)},
			},
			"ids": schema.ListAttribute{
				MarkdownDescription: "Only instances with these IDs.",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.List{listvalidator.ValueStringsAre(validUUID())},
			},
			"server_ids": schema.ListAttribute{
				MarkdownDescription: "Only instances on these physical servers.",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.List{listvalidator.ValueStringsAre(validUUID())},
			},
			"name_regex": schema.StringAttribute{
				MarkdownDescription: "Only instances whose name matches this regular expression ([Go syntax](https://pkg.go.dev/regexp/syntax)); " +
					"anchor it with `^...$` for a whole-name match.",
				Optional:   true,
				Validators: []validator.String{regexValidator{}},
			},
		},
	}
}

func (r *instanceListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if c := configureClient(req.ProviderData, &resp.Diagnostics); c != nil {
		r.client = c
	}
}

func (r *instanceListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg instanceListModel
	var diags diag.Diagnostics
	if !clientConfigured(r.client, &diags) {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	diags.Append(req.Config.Get(ctx, &cfg)...)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	f := instanceFilter{State: cfg.State.ValueString(), IDs: cfg.IDs, ServerIDs: cfg.ServerIDs}
	if s := cfg.NameRegex.ValueString(); s != "" {
		re, err := regexp.Compile(s)
		if err != nil {
			diags.AddAttributeError(path.Root("name_regex"), "Invalid Regular Expression", err.Error())
			stream.Results = list.ListResultsStreamDiagnostics(diags)
			return
		}
		f.NameRegex = re
	}
	found, err := findInstances(ctx, r.client, f)
	if err != nil {
		addClientError(&diags, "Unable to List Instances", err)
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	projectID := r.client.ProjectID()
	stream.Results = func(push func(list.ListResult) bool) {
		var n int64
		for i := range found {
			in := &found[i]
			if in.State == clouddc.StateTerminated && f.State != string(clouddc.StateTerminated) {
				continue
			}
			if req.Limit > 0 && n >= req.Limit {
				return
			}
			n++
			result := req.NewListResult(ctx)
			result.DisplayName = fmt.Sprintf("%s (%s, %s)", in.Name, in.ID, in.State)
			result.Diagnostics.Append(setInstanceIdentity(ctx, result.Identity, in.ID, projectID)...)
			if req.IncludeResource {
				m, d := listedInstance(in)
				result.Diagnostics.Append(d...)
				result.Diagnostics.Append(result.Resource.Set(ctx, m)...)
			}
			if !push(result) {
				return
			}
		}
	}
}

// listedInstance is the resource that the list shows for an instance, and
// that -generate-config-out writes configuration from: what the API
// reports, with no password (the API never returns it) and no timeouts.
func listedInstance(in *clouddc.Instance) (instanceResourceModel, diag.Diagnostics) {
	m := instanceResourceModel{
		Password:          types.StringNull(),
		PasswordWO:        types.StringNull(),
		PasswordWOVersion: types.Int64Null(),
		Metadata:          types.MapNull(types.StringType),
		// The provider's own guard, off by default as in the schema, so
		// that generated configuration plans clean.
		DeletionProtection: types.BoolValue(false),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
			"create": types.StringType, "update": types.StringType, "delete": types.StringType,
		})},
	}
	// flattenInstance leaves out the create token (userMetadata), so the
	// generated configuration never asks for the provider's own key.
	return m, flattenInstance(in, &m)
}
