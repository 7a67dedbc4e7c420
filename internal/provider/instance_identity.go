package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Resource identity (Terraform 1.12 and later) names the instance that a
// clouddc_instance stands for, apart from its other attributes: the
// instance ID and the project it lives in. An instance ID is only
// meaningful within its project, so the project belongs in the identity,
// as AWS puts the account and region in theirs. It also guards the state:
// a provider pointed at another project would look the ID up there, find
// nothing, and forget an instance that still exists; with the project in
// the identity, Read stops with an error instead (see identify).

var _ resource.ResourceWithIdentity = (*instanceResource)(nil)

// instanceIdentityModel is the identity of a clouddc_instance.
type instanceIdentityModel struct {
	ID        types.String `tfsdk:"id"`
	ProjectID types.String `tfsdk:"project_id"`
}

func (r *instanceResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"id": identityschema.StringAttribute{
				Description:       "Instance ID (a UUID).",
				RequiredForImport: true,
			},
			"project_id": identityschema.StringAttribute{
				Description: "Project that holds the instance. Optional on import: it defaults to the provider's `project_id`, " +
					"and when given it must be the provider's (use a provider alias for another project).",
				OptionalForImport: true,
			},
		},
	}
}

// projectID is the project of the configured client ("" before Configure,
// which only happens in validation).
func (r *instanceResource) projectID() string {
	if r.client == nil {
		return ""
	}
	return r.client.ProjectID()
}

// identify sets the identity of instance id in out. prior is the identity
// Terraform holds (nil on CLIs without identity support, null for state
// written before identity existed): when it names another project than the
// provider's, reading the instance would look in the wrong project and
// could conclude that it is gone, so that is an error.
//
// Read calls it before anything else, also on the paths that remove the
// resource: Terraform rejects a Read that returns no identity, even one
// that removes the resource ("Missing Resource Identity After Read").
func (r *instanceResource) identify(ctx context.Context, prior, out *tfsdk.ResourceIdentity, id string) diag.Diagnostics {
	var diags diag.Diagnostics
	if prior != nil && !prior.Raw.IsNull() {
		var old instanceIdentityModel
		diags.Append(prior.Get(ctx, &old)...)
		if diags.HasError() {
			return diags
		}
		if p := old.ProjectID.ValueString(); p != "" && p != r.projectID() {
			diags.AddError("Instance Belongs to Another Project",
				fmt.Sprintf("The state says that instance %s is in project %s, but the provider is configured for project %s. "+
					"Reading it there would not find it, and Terraform would forget an instance that exists. "+
					"Configure the provider (or a provider alias for this resource) with project_id = %q.",
					id, p, r.projectID(), p))
			return diags
		}
	}
	diags.Append(setInstanceIdentity(ctx, out, id, r.projectID())...)
	return diags
}

// setInstanceIdentity writes the identity of an instance; out is nil when
// the CLI does not support identity (Terraform before 1.12, OpenTofu).
func setInstanceIdentity(ctx context.Context, out *tfsdk.ResourceIdentity, id, projectID string) diag.Diagnostics {
	if out == nil {
		return nil
	}
	return out.Set(ctx, instanceIdentityModel{ID: types.StringValue(id), ProjectID: types.StringValue(projectID)})
}

// ImportState takes the instance ID, from `terraform import`, an import
// block's id, or an import block's identity (Terraform 1.12 and later).
func (r *instanceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id, where := req.ID, "Import takes the instance's ID"
	if id == "" && req.Identity != nil {
		var ident instanceIdentityModel
		resp.Diagnostics.Append(req.Identity.Get(ctx, &ident)...)
		if resp.Diagnostics.HasError() {
			return
		}
		id, where = ident.ID.ValueString(), "The identity's id is the instance's ID"
		if p := ident.ProjectID.ValueString(); p != "" && p != r.projectID() {
			resp.Diagnostics.AddError("Instance Is in Another Project",
				fmt.Sprintf("The import's identity names project %s, but the provider is configured for project %s. "+
					"Import with a provider (or provider alias) configured with project_id = %q, or leave project_id out of the identity.",
					p, r.projectID(), p))
			return
		}
	}
	if !isUUID(id) {
		resp.Diagnostics.AddError("Invalid Import ID",
			fmt.Sprintf("%q is not an instance ID. %s, a lower-case UUID such as 2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d.", id, where))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), r.projectID())...)
	resp.Diagnostics.Append(setInstanceIdentity(ctx, resp.Identity, id, r.projectID())...)
}
