package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

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
	State       types.String `tfsdk:"state"`
	InstanceIDs []string     `tfsdk:"instance_ids"`
	ServerIDs   []string     `tfsdk:"server_ids"`
	NameRegex   types.String `tfsdk:"name_regex"`
}

func (r *instanceListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance"
}

func (r *instanceListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds the project's iMetal instances for `terraform query`, reading every page of the API, so that " +
			"instances installed by hand or in the console can be brought under Terraform: " +
			"`terraform query -generate-config-out=instances.tf` writes a `clouddc_instance` resource and an `import` block " +
			"(by identity) for each. Each result shows as `name (id)`. **Needs Terraform 1.14 or later.**\n\n" +
			"Filters combine: an instance is listed when it matches all of them. Terraform stops after the list block's `limit` " +
			"results (100 unless set). Two kinds of instances are left out, because adopting them would be a mistake:\n\n" +
			"- **Instances that Terraform created.** Every instance this provider creates carries a create token in its metadata " +
			"(`" + clouddc.CreateTokenKey + "`), so it belongs to a Terraform state, this one or another. Importing it here " +
			"would put one server under two states: the next apply of either could change its password, and a destroy in " +
			"either would wipe it under the other. They are listed only when `instance_ids` names them, for the rare instance " +
			"that no state holds (a create whose outcome was uncertain names it in its error).\n" +
			"- **Instances that are being deleted or are deleted** (`shutting-down`, `terminated`; the API shows them for a while " +
			"after their deletion), unless `state` asks for them.\n\n" +
			"The API never returns an instance's password, so the generated configuration has `password = null`, and planning it " +
			"fails until each resource has `password` (or `password_wo` and `password_wo_version`); see the guide \"Taking over " +
			"instances installed by hand\". The first apply after the import then sets that password on the instance " +
			"(ChangeInstancePassword), which takes effect at the server's next power-on or reboot. The generated resources also " +
			"pin `power_state` to the power each instance has now; remove it from those whose power you leave to actions or to " +
			"the console.",
		Attributes: map[string]schema.Attribute{
			"state": schema.StringAttribute{
				MarkdownDescription: filterStateDescription,
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(instanceStates...)},
			},
			"instance_ids": schema.ListAttribute{
				MarkdownDescription: filterInstanceIDsDescription + " An instance named here is listed even when it carries a " +
					"create token (see above).",
				Optional:    true,
				ElementType: types.StringType,
				Validators:  []validator.List{listvalidator.ValueStringsAre(validUUID())},
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
	f := instanceFilter{State: cfg.State.ValueString(), InstanceIDs: cfg.InstanceIDs, ServerIDs: cfg.ServerIDs}
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
	found, tokened := adoptable(found, f)
	projectID := r.client.ProjectID()
	stream.Results = func(push func(list.ListResult) bool) {
		if len(tokened) > 0 {
			// A result with nothing but a warning: Terraform shows it with
			// the list block, so that nobody wonders where they went.
			var d diag.Diagnostics
			d.AddWarning("Instances Made by Terraform Left Out", leftOutDetail(tokened))
			if !push(list.ListResult{Diagnostics: d}) {
				return
			}
		}
		var n int64
		for i := range found {
			in := &found[i]
			if req.Limit > 0 && n >= req.Limit {
				return
			}
			n++
			result := req.NewListResult(ctx)
			result.DisplayName = fmt.Sprintf("%s (%s)", in.Name, in.ID)
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

// adoptable splits what the filter found into the instances the list
// shows and those it leaves out: instances that carry a create token, which
// some Terraform state holds, unless the filter names them by ID. Importing
// such an instance would put one server under two states.
func adoptable(found []clouddc.Instance, f instanceFilter) (shown, tokened []clouddc.Instance) {
	for _, in := range found {
		if in.Metadata[clouddc.CreateTokenKey] != "" && !slices.Contains(f.InstanceIDs, in.ID) {
			tokened = append(tokened, in)
			continue
		}
		shown = append(shown, in)
	}
	return shown, tokened
}

// leftOutDetail says which instances the list left out, and why.
func leftOutDetail(tokened []clouddc.Instance) string {
	const most = 10
	names := make([]string, 0, most)
	for _, in := range tokened[:min(len(tokened), most)] {
		names = append(names, fmt.Sprintf("%s (%s)", in.Name, in.ID))
	}
	if len(tokened) > most {
		names = append(names, fmt.Sprintf("and %d more", len(tokened)-most))
	}
	what := fmt.Sprintf("%d instances that match are", len(tokened))
	if len(tokened) == 1 {
		what = "An instance that matches is"
	}
	return fmt.Sprintf("%s left out: %s. Terraform made them: they carry the create token that this provider sets on every "+
		"instance it creates (metadata %s), so a Terraform state holds them, this one or another. Importing one here would put "+
		"its server under two states, and a destroy in either would wipe it under the other. To list one anyway (an instance "+
		"that no state holds, such as one that an uncertain create named in its error), name it in instance_ids.",
		what, strings.Join(names, ", "), clouddc.CreateTokenKey)
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
