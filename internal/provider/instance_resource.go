package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

var (
	_ resource.Resource                = (*instanceResource)(nil)
	_ resource.ResourceWithConfigure   = (*instanceResource)(nil)
	_ resource.ResourceWithImportState = (*instanceResource)(nil)
)

// Default limits of the timeouts block. Bare-metal installs and wipes take
// minutes; thirty leaves room for a slow server without hanging forever.
const (
	defaultCreateTimeout = 30 * time.Minute
	defaultUpdateTimeout = 30 * time.Minute
	defaultDeleteTimeout = 30 * time.Minute
)

// NewInstanceResource returns the clouddc_instance resource.
func NewInstanceResource() resource.Resource { return &instanceResource{} }

type instanceResource struct {
	client *clouddc.Client
}

func (r *instanceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance"
}

func (r *instanceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An iMetal instance: an operating system installed onto one of your physical servers. " +
			"Creating it installs the OS and waits until the instance is `running`; destroying it wipes the OS, " +
			"waits until the instance is `terminated`, and leaves the server `ready` for another instance.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Instance ID (a UUID).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Instance name: 1 to 63 letters, digits, `_`, `-`, `.` or Chinese characters. Changing it creates a new instance.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"image_id": schema.StringAttribute{
				MarkdownDescription: "ID of the private image (IMS) to install. Changing it creates a new instance.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"vpc_id": schema.StringAttribute{
				MarkdownDescription: "ID of the VPC that every network interface belongs to. Changing it creates a new instance.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"network_interfaces": schema.ListNestedAttribute{
				MarkdownDescription: "One or two network interfaces; the first is the primary one. Changing them creates a new instance.",
				Required:            true,
				Validators:          []validator.List{listvalidator.SizeBetween(1, 2)},
				PlanModifiers:       []planmodifier.List{nicsRequireReplace{}},
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"subnet_id": schema.StringAttribute{
							MarkdownDescription: "ID of the CloudDCN subnet.",
							Required:            true,
						},
						"ipv4_address": schema.StringAttribute{
							MarkdownDescription: "Fixed private IPv4 address in the subnet. Left unset, the API assigns one and this attribute reports it.",
							Optional:            true,
							Computed:            true,
							PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
						},
					},
				},
			},
			"password": schema.StringAttribute{
				MarkdownDescription: "Password of the administrator (`root`, or `Administrator` on Windows): 8 to 26 characters with at least " +
					"three of upper-case letters, lower-case letters, digits and `!@$%^-_=+[{}]:,./?`, and not containing the user name " +
					"or its reverse. The API never returns it, so Terraform cannot detect a change made outside Terraform. " +
					"Changing it creates a new instance.",
				Required:  true,
				Sensitive: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(
					func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
						// An imported instance has no password in state: adopting
						// the configured one must not rebuild the server.
						resp.RequiresReplace = !req.StateValue.IsNull()
					},
					"Changing the password creates a new instance, except right after an import.",
					"Changing the password creates a new instance, except right after an import.",
				)},
			},
			"metadata": schema.MapAttribute{
				MarkdownDescription: "Up to 10 key/value pairs stored with the instance. Changing them creates a new instance.",
				ElementType:         types.StringType,
				Optional:            true,
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Free-text description, up to 255 characters. Changing it creates a new instance.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(""),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"server_id": schema.StringAttribute{
				MarkdownDescription: "ID of the physical server to install onto; it must be `ready`. Left unset, the API picks any " +
					"ready server and this attribute reports it. Changing it creates a new instance.",
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
			},
			"state":           computedString("Lifecycle state: `pending`, `running`, `stopped`, `shutting-down`, `terminated` or `error`."),
			"operation_state": computedString("Progress of the last long-running operation, such as `install-succeed`."),
			"image_name":      computedString("Name of the installed image."),
			"os_type":         computedString("Operating system family of the image: `Linux`, `Windows` or `Other`."),
			"created_at":      computedString("When the instance was created (RFC 3339, UTC)."),
			"launched_at":     computedString("When the instance was last launched (RFC 3339, UTC)."),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{
				Create: true, Update: true, Delete: true,
				CreateDescription: "How long to wait for the instance to be running (a duration such as `45m`). Default: `30m`.",
				UpdateDescription: "How long to wait for an update to finish. Default: `30m`.",
				DeleteDescription: "How long to wait for the instance to be terminated. Default: `30m`.",
			}),
		},
	}
}

func computedString(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: desc,
		Computed:            true,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

func (r *instanceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if c := configureClient(req.ProviderData, &resp.Diagnostics); c != nil {
		r.client = c
	}
}

func (r *instanceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan instanceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	input, diags := expandCreateInput(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	created, err := r.client.CreateInstanceSafely(ctx, input)
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to Create Instance", err)
		return
	}
	id := created.ID
	ctx = tflog.SetField(ctx, "instance_id", id)
	tflog.Info(ctx, "instance creation started; waiting for it to run", map[string]any{"adopted": created.Adopted, "attempts": created.Attempts})

	// Save the ID before waiting: whatever happens next, Terraform must not
	// forget an instance that exists. If the wait fails, this state is what
	// Terraform keeps, marked tainted, so the next apply replaces it.
	plan.ID = types.StringValue(id)
	nullUnknowns(&plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	if resp.Diagnostics.HasError() {
		return
	}

	_, waitErr := r.client.WaitForInstanceRunning(ctx, id)
	if waitErr != nil {
		detail := describeError(waitErr)
		var timedOut *clouddc.WaitError
		if errors.As(waitErr, &timedOut) {
			detail += "\n\nThe instance is kept in the state, marked tainted, so the next apply replaces it. " +
				"If it does reach running, `terraform untaint` keeps it instead."
		}
		resp.Diagnostics.AddError("Instance Did Not Become Running", detail)
	}
	// Read back what the API reports, also after a failure, so that state
	// matches the instance. After a timeout ctx is spent, so use a fresh one.
	readCtx, readCancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer readCancel()
	inst, err := r.client.GetInstance(readCtx, id)
	if err != nil {
		if waitErr == nil {
			addClientError(&resp.Diagnostics, "Unable to Read Instance After Creating It", err)
		}
		return
	}
	resp.Diagnostics.Append(flattenInstance(inst, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *instanceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state instanceResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	inst, err := r.client.GetInstance(ctx, id)
	switch {
	case errors.Is(err, clouddc.ErrNotFound):
		resp.Diagnostics.AddWarning("Instance No Longer Exists",
			fmt.Sprintf("Instance %s was not found; it was deleted outside Terraform. It is removed from the state, and the next apply creates it again.", id))
		resp.State.RemoveResource(ctx)
		return
	case err != nil:
		addClientError(&resp.Diagnostics, "Unable to Read Instance", err)
		return
	case inst.State == clouddc.StateTerminated:
		resp.Diagnostics.AddWarning("Instance Was Terminated",
			fmt.Sprintf("Instance %s is terminated; it was deleted outside Terraform. It is removed from the state, and the next apply creates it again.", id))
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(flattenInstance(inst, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// Update runs only when nothing but the timeouts block changed (every
// argument forces replacement), so it refreshes the computed values and
// stores the plan.
func (r *instanceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan instanceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	inst, err := r.client.GetInstance(ctx, plan.ID.ValueString())
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to Read Instance", err)
		return
	}
	resp.Diagnostics.Append(flattenInstance(inst, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *instanceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state instanceResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id := state.ID.ValueString()
	ctx = tflog.SetField(ctx, "instance_id", id)

	status, err := r.client.ShowInstanceStatus(ctx, id)
	switch {
	case errors.Is(err, clouddc.ErrNotFound):
		tflog.Info(ctx, "instance already gone")
		return
	case err != nil:
		addClientError(&resp.Diagnostics, "Unable to Delete Instance", err)
		return
	case status.State == clouddc.StateTerminated:
		tflog.Info(ctx, "instance already terminated")
		return
	case status.State == clouddc.StateShuttingDown:
		// A deletion is under way already (an earlier, interrupted destroy,
		// or someone else); do not start another one, just wait for it.
		tflog.Info(ctx, "instance is already shutting down; waiting for it")
	default:
		err := r.client.DeleteInstance(ctx, id)
		if errors.Is(err, clouddc.ErrNotFound) {
			tflog.Info(ctx, "instance already gone")
			return
		}
		if err != nil {
			addClientError(&resp.Diagnostics, "Unable to Delete Instance", err)
			return
		}
		tflog.Info(ctx, "instance deletion started; waiting for it to be terminated")
	}
	if _, err := r.client.WaitForInstanceTerminated(ctx, id); err != nil {
		addClientError(&resp.Diagnostics, "Instance Was Not Deleted", err)
	}
}

func (r *instanceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !isUUID(req.ID) {
		resp.Diagnostics.AddError("Invalid Import ID",
			fmt.Sprintf("%q is not an instance ID. Import takes the instance's ID, a lower-case UUID such as 2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d.", req.ID))
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
