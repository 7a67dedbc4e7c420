package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

var (
	_ resource.Resource                     = (*instanceResource)(nil)
	_ resource.ResourceWithConfigure        = (*instanceResource)(nil)
	_ resource.ResourceWithImportState      = (*instanceResource)(nil)
	_ resource.ResourceWithConfigValidators = (*instanceResource)(nil)
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
			"waits until the instance is `terminated`, and leaves the server `ready` for another instance.\n\n" +
			"`image_id`, `password` (or `password_wo_version`), `vpc_id`, `network_interfaces` and `power_state` change in place; `name`, `description`, " +
			"`metadata` and `server_id` cannot be changed by the API, so changing them replaces the instance.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Instance ID (a UUID).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Instance name: 1 to 63 letters, digits, `_`, `-`, `.` or Chinese characters. " +
					"The API cannot rename an instance, so changing it replaces the instance.",
				Required:      true,
				Validators:    []validator.String{validName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"image_id": schema.StringAttribute{
				MarkdownDescription: "ID of the private image (IMS) to install. Changing it reinstalls the operating system in place " +
					"(ReinstallOs) with the configured password: the instance keeps its ID, its server and its data disks, and its " +
					"system disk is rebuilt, so anything stored on the system disk is lost. The plan shows it as an in-place update, " +
					"with a warning that says so; under `deletion_protection = true` it is refused at plan time.",
				Required:   true,
				Validators: []validator.String{validUUID()},
			},
			"vpc_id": schema.StringAttribute{
				MarkdownDescription: "ID of the VPC that every network interface belongs to. Changing it moves the instance's " +
					"interfaces in place (ModifyInstanceIp), together with `network_interfaces`.",
				Required:   true,
				Validators: []validator.String{validUUID()},
			},
			"network_interfaces": schema.ListNestedAttribute{
				MarkdownDescription: "One or two network interfaces; the first is the primary one. Changing subnets or addresses, " +
					"or adding or removing an interface, changes them in place (ModifyInstanceIp): the list replaces the instance's " +
					"interfaces in order.",
				Required:   true,
				Validators: []validator.List{listvalidator.SizeBetween(1, 2)},
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"subnet_id": schema.StringAttribute{
							MarkdownDescription: "ID of the CloudDCN subnet.",
							Required:            true,
							Validators:          []validator.String{validUUID()},
						},
						"ipv4_address": schema.StringAttribute{
							MarkdownDescription: "Fixed private IPv4 address in the subnet. Left unset, the API assigns one and this " +
								"attribute reports it; the assigned address is kept while the interface stays on its subnet.",
							Optional:      true,
							Computed:      true,
							Validators:    []validator.String{validIPv4()},
							PlanModifiers: []planmodifier.String{nicAddressModifier{}},
						},
					},
				},
			},
			"password": schema.StringAttribute{
				MarkdownDescription: "Password of the administrator (`root`, or `Administrator` on Windows): 8 to 26 characters with at least " +
					"three of upper-case letters, lower-case letters, digits and `!@$%^-_=+[{}]:,./?`, and containing neither `root` nor " +
					"`Administrator` nor their reverse. Changing it changes the password in place (ChangeInstancePassword); the new " +
					"password takes effect at the server's next power-on or reboot. The API never returns the password, so a change " +
					"made outside Terraform cannot be detected. It is stored in the state (marked sensitive); with Terraform 1.11 or " +
					"later, prefer `password_wo`, which keeps it out of the state. Exactly one of `password` and `password_wo` is required.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{validPassword()},
			},
			"password_wo": schema.StringAttribute{
				MarkdownDescription: "Write-only password of the administrator, with the same rules as `password`: it is sent to the API but " +
					"never stored in the plan or the state. **Needs Terraform 1.11 or later**; older versions reject a configuration that " +
					"sets it. Terraform cannot see a change of a write-only value, so change `password_wo_version` to apply a new " +
					"password. Exactly one of `password` and `password_wo` is required.",
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
				Validators: []validator.String{
					validPassword(),
					stringvalidator.AlsoRequires(path.MatchRoot("password_wo_version")),
				},
			},
			"password_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Version of `password_wo`, required with it. Any change of the version changes the password in place " +
					"(ChangeInstancePassword) to the current `password_wo`; changing `password_wo` alone does nothing. Stored in " +
					"the state, unlike the password. Needs Terraform 1.11 or later, as `password_wo` does.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("password_wo"))},
			},
			"metadata": schema.MapAttribute{
				MarkdownDescription: "Up to 9 key/value pairs stored with an instance the provider creates (up to 10 for one made outside " +
					"Terraform and imported). Keys are 1 to 255 characters of letters, digits, " +
					"`-`, `_`, `:`, `.` and space; values at most 255 characters. The API cannot change metadata, so changing it " +
					"replaces the instance. " +
					"The API stores up to 10 pairs; the provider uses the tenth for a create token: the key `" + clouddc.CreateTokenKey +
					"` with a random value, set on every instance it creates. The token proves which create made an instance, so that " +
					"a create whose answer is lost adopts only the instance it made itself (see the provider guide, \"When the API is " +
					"uncertain\"). The key is reserved and cannot be set here; it is visible to whoever reads the instance in the API or " +
					"the console, but never appears in this attribute, in a plan, or as drift.",
				ElementType:   types.StringType,
				Optional:      true,
				Validators:    []validator.Map{metadataRules{}},
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Free-text description, at most 255 characters. The API cannot change it, so changing it replaces the instance.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(""),
				Validators:          []validator.String{maxLength(255)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"server_id": schema.StringAttribute{
				MarkdownDescription: "ID of the physical server to install onto; it must be `ready` (see the `clouddc_physical_servers` " +
					"data source). Left unset, the API picks any ready server and this attribute reports it. An instance cannot move, " +
					"so changing it replaces the instance.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{validUUID()},
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
			},
			"power_state": schema.StringAttribute{
				MarkdownDescription: "Power of the instance's physical server: `on` (the instance runs) or `off` (it is stopped). " +
					"Changing it powers the server on or off in place and waits until the instance is `running` or `stopped`. " +
					"Left unset, the provider reports the current power and does not change it.",
				Optional:      true,
				Computed:      true,
				Validators:    []validator.String{stringvalidator.OneOf(powerOn, powerOff)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"state": schema.StringAttribute{
				MarkdownDescription: "Lifecycle state: `pending`, `running`, `stopped`, `shutting-down`, `terminated` or `error`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{keptUnlessAnyStep},
			},
			"operation_state": schema.StringAttribute{
				MarkdownDescription: "Progress of the last long-running operation, such as `install-succeed` or `reinstall-succeed`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{keptUnlessLongOperation},
			},
			"image_name": schema.StringAttribute{
				MarkdownDescription: "Name of the installed image.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{keptUnlessReinstalled},
			},
			"os_type": schema.StringAttribute{
				MarkdownDescription: "Operating system family of the image: `Linux`, `Windows` or `Other`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{keptUnlessReinstalled},
			},
			"created_at": computedString("When the instance was created (RFC 3339, UTC)."),
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags of the instance, as the API reports them. CloudDC has no API to tag an instance, so they are read-only.",
				Computed:            true,
				ElementType:         types.StringType,
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
			},
			"launched_at": schema.StringAttribute{
				MarkdownDescription: "When the operating system was last installed (RFC 3339, UTC); a reinstall updates it.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{keptUnlessReinstalled},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "Project the instance belongs to: the provider's `project_id` when the instance was created or " +
					"imported. An instance ID means something only in its project, so the provider refuses to read, change or destroy " +
					"the instance while it is configured for another project (it would not find it there, and would forget an instance " +
					"that exists); configure the provider, or a provider alias for this resource, with this project.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"deletion_protection": deletionProtectionAttribute(),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{
				Create: true, Update: true, Delete: true,
				CreateDescription: "How long to wait for the instance to be running (a duration such as `45m`). Default: `30m`.",
				UpdateDescription: "How long to wait for an in-place change (reinstall, IP change, power) to finish. Default: `30m`.",
				DeleteDescription: "How long to wait for the instance to be terminated. Default: `30m`.",
			}),
		},
	}
}

// ConfigValidators require exactly one way to give the password: in the
// state (password) or write-only (password_wo).
func (r *instanceResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{passwordGiven{}}
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
	// A write-only password is only in the configuration: Terraform never
	// puts it in the plan.
	input.Password = desiredPassword(ctx, plan, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	plan.ProjectID = types.StringValue(r.projectID())

	created, err := r.client.CreateInstance(ctx, input)
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to Create Instance", err)
		var unsure *clouddc.CreateUncertainError
		if errors.As(err, &unsure) {
			r.keepUncertain(ctx, plan, unsure, resp)
		}
		return
	}
	id := created.ID
	ctx = tflog.SetField(ctx, "instance_id", id)
	tflog.Info(ctx, "instance creation started; waiting for it to run", map[string]any{"adopted": created.Adopted, "attempts": created.Attempts})
	warnDuplicates(&resp.Diagnostics, id, created.Duplicates)
	// A create that may still make or leave another instance with its
	// token records it in private state when Create returns; the next
	// refresh settles it (settleRead), or a destroy.
	unsettled := false
	settle := func() { unsettled = true }
	defer func() {
		if unsettled {
			resp.Diagnostics.Append(writeSettle(ctx, resp.Private,
				&settleRecord{Token: created.Token, Until: created.SettleBy})...)
		}
	}()

	// Save the ID before waiting: whatever happens next, Terraform must not
	// forget an instance that exists. If the wait fails, this state is what
	// Terraform keeps, marked tainted (see createWaitDetail).
	plan.ID = types.StringValue(id)
	nullUnknowns(&plan)
	resp.Diagnostics.Append(setInstanceIdentity(ctx, resp.Identity, id, r.projectID())...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if created.Resent {
		// An earlier attempt that lands later than the API promises would
		// be a second instance: look once more now that time has passed.
		defer func() {
			checkCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			dups := r.client.RemoveCreateDuplicates(checkCtx, created)
			warnDuplicates(&resp.Diagnostics, id, dups)
			if !dups.Settled() {
				settle()
			}
		}()
	}

	_, dups, waitErr := r.client.WaitForCreate(ctx, created)
	warnDuplicates(&resp.Diagnostics, id, dups)
	// The wait sees the create through when a whole-project listing that
	// started after its window (a late attempt, or a request the gateway
	// replayed, lands within it) showed no other instance with its token:
	// an install takes minutes, longer than the window, so the happy path
	// costs nothing more. Otherwise (a short install, a project too large
	// to list whole, a failed wait, duplicates found) the record stays.
	seenThrough := waitErr == nil && created.Duplicates.Settled() && dups.Settled() && dups.ListedAt.After(created.SettleBy)
	if !seenThrough {
		settle()
	}
	if waitErr == nil && plan.PowerState.ValueString() == powerOff {
		// Asked to be created powered off: it runs once installed, then
		// its server is powered off.
		waitErr = r.setPower(ctx, id, "", powerOff)
	}
	if waitErr != nil {
		detail := describeError(waitErr)
		var stopped *clouddc.WaitError
		if errors.As(waitErr, &stopped) {
			detail = createWaitDetail(stopped)
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

// keepUncertain saves what a create whose outcome is uncertain leaves in
// the state, where Terraform marks it tainted, rather than orphan what it
// may have made: the instance that carries the create's token when one
// was found, or else a provisional object that the next refresh settles
// (instance_pending.go).
func (r *instanceResource) keepUncertain(ctx context.Context, plan instanceResourceModel, unsure *clouddc.CreateUncertainError, resp *resource.CreateResponse) {
	nullUnknowns(&plan)
	if unsure.InstanceID != "" {
		plan.ID = types.StringValue(unsure.InstanceID)
		resp.Diagnostics.Append(setInstanceIdentity(ctx, resp.Identity, unsure.InstanceID, r.projectID())...)
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		resp.Diagnostics.Append(writeSettle(ctx, resp.Private, &settleRecord{Token: unsure.Token, Until: time.Now().Add(time.Minute)})...)
		return
	}
	pc := pendingFromError(unsure, r.projectID())
	if pc == nil {
		return
	}
	// No identity: the instance is not known yet, and the refresh that
	// finds it sets one (Terraform lets a null identity become one).
	plan.ID = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	resp.Diagnostics.Append(writePending(ctx, resp.Private, pc)...)
}

// warnDuplicates tells the user about instances that an earlier attempt of
// a create made after all (they carry its token), whose deletion the
// provider started or could not start.
func warnDuplicates(diags *diag.Diagnostics, id string, dups clouddc.Duplicates) {
	if len(dups.Deleted) > 0 {
		diags.AddWarning("Duplicate Instance Deleted",
			fmt.Sprintf("An earlier attempt of this create, whose answer was lost, made an instance after all: %s. It carries this create's "+
				"token, so the provider started its deletion and keeps %s. Until it is terminated, every refresh and destroy of %s "+
				"looks for it again, and deletes it again if its deletion failed.",
				strings.Join(dups.Deleted, ", "), id, id))
	}
	if len(dups.Failed) > 0 {
		diags.AddWarning("Duplicate Instance Not Deleted",
			fmt.Sprintf("An earlier attempt of this create, whose answer was lost, made an instance after all: %s. It carries this create's "+
				"token, but the API refused to delete it (the provider's log says why). The provider keeps %s and tries again at its "+
				"next refresh or destroy; you can also delete it in the CloudDC console.",
				strings.Join(dups.Failed, ", "), id))
	}
}

func (r *instanceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state instanceResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	pending := r.guard(ctx, state, req.Private, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if pending != nil {
		r.readPending(ctx, state, pending, resp)
		return
	}
	// The identity is set first: Terraform wants it on every path, even
	// those that remove the resource.
	if resp.Diagnostics.Append(r.identify(ctx, req.Identity, resp.Identity, id)...); resp.Diagnostics.HasError() {
		return
	}
	// Settling a create's record deletes duplicates: as long as a destroy.
	settleLimit, d := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	if resp.Diagnostics.Append(d...); resp.Diagnostics.HasError() {
		return
	}
	// GetInstanceCoalesced shares its API call with the other reads of a refresh.
	inst, err := r.client.GetInstanceCoalesced(ctx, id)
	switch {
	case errors.Is(err, clouddc.ErrNotFound) && state.ProjectID.IsNull():
		// A state written before the project was recorded: the instance
		// may be in another project than the provider's.
		resp.Diagnostics.AddError("Instance Not Found in This Project",
			fmt.Sprintf("Instance %s is not in project %s, and the state (written by an older version of the provider) does not "+
				"record which project it belongs to, so the provider cannot tell whether it was deleted or is in another project. "+
				"Nothing was removed from the state. If the provider should point at another project, set project_id there. If the "+
				"instance was deleted, remove it from the state with terraform state rm and this resource's address.", id, r.projectID()))
		return
	case errors.Is(err, clouddc.ErrNotFound):
		// Its create's duplicates, if any, are settled before the record
		// goes with the resource.
		if r.settleRead(ctx, req.Private, resp.Private, id, settleLimit, &resp.Diagnostics) {
			resp.Diagnostics.AddWarning("Instance No Longer Exists",
				fmt.Sprintf("Instance %s was not found; it was deleted outside Terraform. It is removed from the state, and the next apply creates it again.", id))
			resp.State.RemoveResource(ctx)
		}
		return
	case err != nil:
		addClientError(&resp.Diagnostics, "Unable to Read Instance", err)
		return
	case inst.State == clouddc.StateTerminated:
		if r.settleRead(ctx, req.Private, resp.Private, id, settleLimit, &resp.Diagnostics) {
			resp.Diagnostics.AddWarning("Instance Was Terminated",
				fmt.Sprintf("Instance %s is terminated; it was deleted outside Terraform. It is removed from the state, and the next apply creates it again.", id))
			resp.State.RemoveResource(ctx)
		}
		return
	}
	if !r.settleRead(ctx, req.Private, resp.Private, inst.ID, settleLimit, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(flattenInstance(inst, &state)...)
	if state.DeletionProtection.IsNull() {
		state.DeletionProtection = types.BoolValue(false) // imported: the default
	}
	state.ProjectID = types.StringValue(r.projectID())
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// readPending is Read for a provisional object: it settles the create
// whose outcome was unknown, adopting its instance or removing the object.
func (r *instanceResource) readPending(ctx context.Context, state instanceResourceModel, pending *pendingCreate, resp *resource.ReadResponse) {
	inst, removed, diags := r.settlePending(ctx, &state, pending)
	if diags.HasError() || removed {
		resp.Diagnostics.Append(diags...)
	}
	if diags.HasError() {
		return
	}
	if removed {
		resp.Diagnostics.Append(setInstanceIdentity(ctx, resp.Identity, "", r.projectID())...)
		resp.State.RemoveResource(ctx)
		return
	}
	// Another attempt of that create may still land until its deadline:
	// settled now, as for any record (settleRead). Until that succeeds, the
	// refresh fails and the provisional object stays as it was.
	settleLimit, d := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	if resp.Diagnostics.Append(d...); resp.Diagnostics.HasError() {
		return
	}
	var settled diag.Diagnostics
	rec := &settleRecord{Token: pending.Token, Until: pending.Deadline}
	if !r.settleWithin(ctx, resp.Private, inst.ID, rec, settleLimit, &settled) {
		resp.Diagnostics.Append(settled...)
		return
	}
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(settled...)
	resp.Diagnostics.Append(setInstanceIdentity(ctx, resp.Identity, inst.ID, r.projectID())...)
	resp.Diagnostics.Append(flattenInstance(inst, &state)...)
	state.ProjectID = types.StringValue(r.projectID())
	resp.Diagnostics.Append(writePending(ctx, resp.Private, nil)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// guard is what Read, Update and Delete check first: the pending create of
// a provisional object, if any (returned), and the project (checkProject).
func (r *instanceResource) guard(ctx context.Context, state instanceResourceModel, private privateState, diags *diag.Diagnostics) *pendingCreate {
	pending, d := readPending(ctx, private)
	diags.Append(d...)
	diags.Append(r.checkProject(state.ProjectID, pending, state.ID.ValueString())...)
	return pending
}

// checkProject refuses to act on an instance of another project than the
// provider's: there, its ID would not be found, and an instance that
// exists would be forgotten (and made again by the next apply).
func (r *instanceResource) checkProject(stateProject types.String, pending *pendingCreate, id string) diag.Diagnostics {
	var diags diag.Diagnostics
	want := stateProject.ValueString()
	if pending != nil && want == "" {
		want = pending.Project
	}
	if want == "" || want == r.projectID() {
		return diags
	}
	what := "instance " + id
	if id == "" {
		what = "the instance of an interrupted create"
	}
	diags.AddError("Instance Belongs to Another Project",
		fmt.Sprintf("The state says that %s is in project %s, but the provider is configured for project %s. Looking for it there "+
			"would not find it, and Terraform would forget an instance that exists, so nothing was read, changed or destroyed. "+
			"Configure the provider (or a provider alias for this resource) with project_id = %q; check CLOUDDC_PROJECT_ID and "+
			"HW_PROJECT_ID in your shell, and the region the project is looked up from.", what, want, r.projectID(), want))
	return diags
}

// Update changes in place what the API can change, one operation at a
// time, waiting for each: the network interfaces, the image (a reinstall,
// which also sets the password), the password, then the power. If a step
// fails, the state is written as the API then reports the instance, so the
// next plan shows exactly what is left to do.
func (r *instanceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state instanceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	pending := r.guard(ctx, state, req.Private, &resp.Diagnostics)
	if pending != nil {
		resp.Diagnostics.AddError("Interrupted Create Not Settled Yet",
			"This resource holds a create whose outcome is not known yet, so it cannot be changed. Run terraform apply without "+
				"-refresh=false: the refresh settles it (it finds the instance, or learns that none was made).")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	// Every update answers with the identity, also the one that calls no
	// API: a state refreshed with -refresh=false may predate identity.
	resp.Diagnostics.Append(setInstanceIdentity(ctx, resp.Identity, id, r.projectID())...)
	plan.ProjectID = types.StringValue(r.projectID())
	if onlyDeletionProtectionChanged(plan, state) {
		// Nothing the API holds changes: no API call.
		state.DeletionProtection, state.Timeouts = plan.DeletionProtection, plan.Timeouts
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = tflog.SetField(ctx, "instance_id", id)

	// The password to set when one is needed: password, or else the
	// write-only password_wo, which only the configuration holds.
	password := desiredPassword(ctx, plan, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	planNICs, d := nicModels(ctx, plan.NetworkInterfaces)
	resp.Diagnostics.Append(d...)
	stateNICs, d := nicModels(ctx, state.NetworkInterfaces)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The same steps the plan showed (plannedSteps); power is decided in
	// changePower, against the instance as it then is.
	steps := plannedSteps(
		updateGoal{ImageID: plan.ImageID, VPCID: plan.VPCID, NICs: planNICs},
		updateGoal{ImageID: state.ImageID, VPCID: state.VPCID, NICs: stateNICs})
	u := &instanceUpdate{r: r, id: id, plan: plan, state: state, cur: state, password: password, planNICs: planNICs, stateNICs: stateNICs, steps: steps}
	// deletion_protection needs no API call: it holds from the start, also
	// when a step below fails and the state keeps what was done.
	u.cur.Timeouts, u.cur.DeletionProtection = plan.Timeouts, plan.DeletionProtection
	for _, step := range []func(context.Context) *stepFailure{u.changeNetwork, u.reinstall, u.changePassword, u.changePower} {
		if f := step(ctx); f != nil {
			addClientError(&resp.Diagnostics, f.summary, f.err)
			r.saveAfterFailure(ctx, id, &u.cur, &resp.State, &resp.Diagnostics)
			return
		}
	}
	inst, err := r.client.GetInstance(ctx, id)
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to Read Instance After Updating It", err)
		r.saveAfterFailure(ctx, id, &u.cur, &resp.State, &resp.Diagnostics)
		return
	}
	plan.PowerState = u.cur.PowerState
	resp.Diagnostics.Append(flattenInstance(inst, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// instanceUpdate is one Update in progress: what the plan asks for, the
// state before it, and cur, what is true so far (the prior state plus each
// step done), which a failure writes to the state. Each step makes its one
// change, if the plan asks for it, and waits for it to end.
type instanceUpdate struct {
	r           *instanceResource
	id          string
	plan, state instanceResourceModel
	cur         instanceResourceModel
	password    string
	reinstalled bool
	// planNICs and stateNICs are the network interfaces planned and in
	// the state.
	planNICs, stateNICs []networkInterfaceModel
	// steps: what the update carries out (plannedSteps).
	steps updateSteps
}

// stepFailure is a step of an update that failed: the diagnostic's
// summary and the client's error.
type stepFailure struct {
	summary string
	err     error
}

func failed(summary string, err error) *stepFailure { return &stepFailure{summary: summary, err: err} }

// changeNetwork moves the NICs (and the VPC) with ModifyInstanceIp.
func (u *instanceUpdate) changeNetwork(ctx context.Context) *stepFailure {
	if !u.steps.modifyIP {
		return nil
	}
	in := clouddc.ModifyIPInput{VPCID: u.plan.VPCID.ValueString()}
	for _, n := range u.planNICs {
		in.NICs = append(in.NICs, clouddc.ModifyIP{SubnetID: n.SubnetID.ValueString(), IPAddress: n.IPv4Address.ValueString()})
	}
	tflog.Info(ctx, "changing the instance's network interfaces")
	// The instance as it is before the change, so that the wait ends on
	// this change, not on an earlier one's modify-ip-succeed.
	prior, err := u.r.client.GetInstance(ctx, u.id)
	if err != nil {
		return failed("Unable to Read the Instance Before Changing Its Network Interfaces", err)
	}
	if err := u.r.client.ModifyInstanceIP(ctx, u.id, in); err != nil {
		return failed("Unable to Change the Instance's Network Interfaces", err)
	}
	if _, err := u.r.client.WaitForModifyIP(ctx, u.id, prior); err != nil {
		return failed("Changing the Instance's Network Interfaces Failed", err)
	}
	return nil
}

// reinstall installs the new image with ReinstallOs, which sets the
// password too.
func (u *instanceUpdate) reinstall(ctx context.Context) *stepFailure {
	if !u.steps.reinstall {
		return nil
	}
	tflog.Info(ctx, "reinstalling the instance's operating system", map[string]any{"image_id": u.plan.ImageID.ValueString()})
	// As for the IP change: the wait must end on this reinstall.
	prior, err := u.r.client.GetInstance(ctx, u.id)
	if err != nil {
		return failed("Unable to Read the Instance Before Reinstalling It", err)
	}
	if err := u.r.client.ReinstallOS(ctx, u.id, u.plan.ImageID.ValueString(), u.password); err != nil {
		return failed("Unable to Reinstall the Instance", err)
	}
	// The reinstall was accepted with the new password: from here on, the
	// password in state is the new one, whatever happens next.
	u.cur.Password, u.cur.PasswordWOVersion = u.plan.Password, u.plan.PasswordWOVersion
	if _, err := u.r.client.WaitForReinstall(ctx, u.id, prior); err != nil {
		return failed("Reinstalling the Instance Failed", err)
	}
	u.reinstalled = true
	return nil
}

// changePassword sets a new password, unless a reinstall already did.
func (u *instanceUpdate) changePassword(ctx context.Context) *stepFailure {
	if u.reinstalled || !passwordChanged(u.plan, u.state) {
		return nil
	}
	tflog.Info(ctx, "changing the instance's password")
	if err := u.r.client.ChangeInstancePassword(ctx, u.password, u.id); err != nil {
		return failed("Unable to Change the Instance's Password", err)
	}
	u.cur.Password, u.cur.PasswordWOVersion = u.plan.Password, u.plan.PasswordWOVersion
	return nil
}

// changePower powers the server on or off when the instance is not as
// power_state asks, compared with the instance as it is now: a reinstall
// leaves it running whatever its power was before.
func (u *instanceUpdate) changePower(ctx context.Context) *stepFailure {
	want := u.plan.PowerState.ValueString()
	if want == "" || u.plan.PowerState.IsUnknown() {
		return nil
	}
	st, err := u.r.client.ShowInstanceStatus(ctx, u.id)
	if err != nil {
		return failed("Unable to Read the Instance's Power State", err)
	}
	if powerOf(st.State) == want {
		return nil
	}
	if err := u.r.setPower(ctx, u.id, u.cur.ServerID.ValueString(), want); err != nil {
		return failed("Unable to Power the Instance "+strings.ToUpper(want[:1])+want[1:], err)
	}
	return nil
}

// desiredPassword is the password the configuration asks for: password,
// or else password_wo read from the configuration (write-only values are
// never in the plan). An empty result is reported as an error: the API
// needs a password to create or reinstall.
func desiredPassword(ctx context.Context, plan instanceResourceModel, config tfsdk.Config, diags *diag.Diagnostics) string {
	if !plan.Password.IsNull() {
		return plan.Password.ValueString()
	}
	var wo types.String
	diags.Append(config.GetAttribute(ctx, path.Root("password_wo"), &wo)...)
	if diags.HasError() {
		return ""
	}
	if wo.IsNull() || wo.IsUnknown() || wo.ValueString() == "" {
		diags.AddAttributeError(path.Root("password_wo"), "Missing Instance Password",
			"Neither password nor password_wo has a value, and the API needs the administrator password. Set one of them. "+
				"(password_wo needs Terraform 1.11 or later.)")
		return ""
	}
	return wo.ValueString()
}

// setPower powers the instance's server on or off and waits for the
// instance to run or stop.
func (r *instanceResource) setPower(ctx context.Context, id, serverID, want string) error {
	if serverID == "" {
		inst, err := r.client.GetInstance(ctx, id)
		if err != nil {
			return err
		}
		serverID = inst.ServerID
	}
	action, target := clouddc.ActionPowerOn, clouddc.StateRunning
	if want == powerOff {
		action, target = clouddc.ActionPowerOff, clouddc.StateStopped
	}
	tflog.Info(ctx, "changing the power of the instance's server", map[string]any{"server_id": serverID, "action": action})
	if err := r.client.ChangeServerPowerState(ctx, action, serverID); err != nil {
		return err
	}
	_, err := r.client.WaitForPowerState(ctx, id, target)
	return err
}

// saveAfterFailure writes to state what the API reports after a failed
// update, so that state matches the instance. cur holds what is known
// to be true (the password in particular, which the API never returns).
func (r *instanceResource) saveAfterFailure(ctx context.Context, id string, cur *instanceResourceModel, st *tfsdk.State, diags *diag.Diagnostics) {
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	inst, err := r.client.GetInstance(readCtx, id)
	if err != nil {
		tflog.Warn(ctx, "could not read the instance after a failed update; keeping the prior state", map[string]any{"error": err.Error()})
		diags.Append(st.Set(ctx, cur)...)
		return
	}
	diags.Append(flattenInstance(inst, cur)...)
	diags.Append(st.Set(ctx, cur)...)
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
	// A failed destroy answers with no object, so that Terraform keeps the
	// object as it was, private state included. It does not pass a tainted
	// object's private state to the delete that replaces it, and would
	// store the private state the delete answers with in its place: a
	// record of an unsettled or interrupted create (instance_pending.go)
	// would be lost. deletePending, which got its record, answers with
	// what it learned instead.
	pending := r.guard(ctx, state, req.Private, &resp.Diagnostics)
	if pending != nil && !resp.Diagnostics.HasError() {
		r.deletePending(ctx, state, pending, resp)
		return
	}
	defer func() {
		if resp.Diagnostics.HasError() {
			resp.State.RemoveResource(ctx)
		}
	}()
	if resp.Diagnostics.HasError() {
		return
	}
	if id == "" {
		// A provisional object whose record Terraform did not pass on: it is
		// tainted and being replaced without a refresh (-refresh=false).
		resp.Diagnostics.AddError("Interrupted Create Not Settled Yet",
			"This resource holds a create whose outcome is not known yet, and Terraform did not pass its record to this destroy "+
				"(it does not for a tainted object it replaces). Nothing was deleted, and the resource stays in the state. Run "+
				"terraform apply without -refresh=false: the refresh settles it (it finds the instance, or learns that none was made).")
		return
	}
	if state.DeletionProtection.ValueBool() {
		// Also when Terraform did not show the destroy to ModifyPlan.
		addDeletionProtectedError(&resp.Diagnostics, id, "delete it", deleteRefusedAdvice)
		return
	}
	rec, dups := r.settleDuplicates(ctx, req.Private, resp.Private, id, &resp.Diagnostics)

	// DELETE, then wait for terminated. A deletion already under way (an
	// interrupted destroy, or someone else's) is waited for, not restarted:
	// the API leaves it as it is when asked again. If the wait fails, the
	// instance stays in state, so the next destroy tries again.
	deleteAccepted, err := r.client.TerminateInstance(ctx, id)
	if err != nil {
		summary := "Instance Was Not Deleted"
		if !deleteAccepted {
			summary = "Unable to Delete Instance"
		}
		addClientError(&resp.Diagnostics, summary, err)
	}
	// The duplicates of its create go with it: once this resource is
	// gone, nothing would look for them again.
	if rec != nil {
		r.settleBeforeForgetting(ctx, id, rec, dups, destroyAgain, &resp.Diagnostics)
	} else {
		r.waitForDuplicates(ctx, id, dups, destroyAgain, &resp.Diagnostics)
	}
}

// waitForDuplicates waits until the duplicates of keep's create that are
// being deleted, or that the API refused to delete, are terminated: a
// deletion that ends in error, or was refused, is asked for again, up to
// duplicateDeleteAttempts times in all. It fails, naming each, for those
// that stay.
func (r *instanceResource) waitForDuplicates(ctx context.Context, keep string, dups clouddc.Duplicates, again string, diags *diag.Diagnostics) {
	failed := map[string]string{}
	try := func(dup string, deleting bool) {
		var last error
		for attempt := range duplicateDeleteAttempts {
			if !deleting || attempt > 0 {
				if err := r.client.DeleteInstance(ctx, dup); err != nil && !errors.Is(err, clouddc.ErrNotFound) {
					last = err
					continue
				}
			}
			if _, err := r.client.WaitForInstanceTerminated(ctx, dup); err != nil {
				last = err
				if ctx.Err() != nil {
					break
				}
				continue
			}
			return
		}
		failed[dup] = describeError(last)
	}
	for _, dup := range dups.Waiting() {
		try(dup, true)
	}
	for _, dup := range dups.Failed {
		try(dup, false)
	}
	for _, dup := range slices.Sorted(maps.Keys(failed)) {
		diags.AddError("Duplicate Instance Was Not Deleted",
			fmt.Sprintf("Instance %s carries the create token of %s: an earlier attempt of that create made it after all. Its deletion "+
				"did not end: %s. Delete it in the CloudDC console. %s", dup, keep, failed[dup], again))
	}
}

// duplicateDeleteAttempts bounds how often a destroy asks for the deletion
// of one duplicate.
const duplicateDeleteAttempts = 3
