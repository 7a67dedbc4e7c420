package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
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
					"system disk is rebuilt, so anything stored on the system disk is lost.",
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
				MarkdownDescription: "Up to 9 key/value pairs stored with the instance. Keys are 1 to 255 characters of letters, digits, " +
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
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("password"), path.MatchRoot("password_wo")),
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
	// A write-only password is only in the configuration: Terraform never
	// puts it in the plan.
	input.Password = desiredPassword(ctx, plan, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	created, err := r.client.CreateInstanceSafely(ctx, input)
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to Create Instance", err)
		// An instance that carries this create's token but could not be
		// adopted was still made by this create: keep it in the state,
		// where Terraform marks it tainted, rather than orphan it.
		var unsure *clouddc.CreateUncertainError
		if errors.As(err, &unsure) && unsure.InstanceID != "" {
			plan.ID = types.StringValue(unsure.InstanceID)
			nullUnknowns(&plan)
			resp.Diagnostics.Append(setInstanceIdentity(ctx, resp.Identity, unsure.InstanceID, r.projectID())...)
			resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		}
		return
	}
	id := created.ID
	ctx = tflog.SetField(ctx, "instance_id", id)
	tflog.Info(ctx, "instance creation started; waiting for it to run", map[string]any{"adopted": created.Adopted, "attempts": created.Attempts})
	warnDuplicates(&resp.Diagnostics, id, created.Duplicates)

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
			warnDuplicates(&resp.Diagnostics, id, r.client.RemoveCreateDuplicates(checkCtx, created))
		}()
	}

	_, waitErr := r.client.WaitForInstanceRunning(ctx, id)
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

// warnDuplicates tells the user about instances that an earlier attempt of
// a create made after all, and whose deletion the provider started.
func warnDuplicates(diags *diag.Diagnostics, id string, dups []string) {
	if len(dups) == 0 {
		return
	}
	diags.AddWarning("Duplicate Instance Deleted",
		fmt.Sprintf("An earlier attempt of this create, whose answer was lost, made an instance after all: %s. It carries this create's "+
			"token, so the provider started its deletion and keeps %s. Check in the CloudDC console that it reaches terminated.",
			strings.Join(dups, ", "), id))
}

func (r *instanceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state instanceResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	// The identity is set first: Terraform wants it on every path, even
	// those that remove the resource.
	if resp.Diagnostics.Append(r.identify(ctx, req.Identity, resp.Identity, id)...); resp.Diagnostics.HasError() {
		return
	}
	// GetInstanceCoalesced shares its API call with the other reads of a refresh.
	inst, err := r.client.GetInstanceCoalesced(ctx, id)
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
	if state.DeletionProtection.IsNull() {
		state.DeletionProtection = types.BoolValue(false) // imported: the default
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
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
	// Every update answers with the identity, also the one that calls no
	// API: a state refreshed with -refresh=false may predate identity.
	resp.Diagnostics.Append(setInstanceIdentity(ctx, resp.Identity, id, r.projectID())...)
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

	// cur is what is true so far: the prior state, plus each step done.
	cur := state
	cur.Timeouts = plan.Timeouts
	fail := func(summary string, err error) {
		addClientError(&resp.Diagnostics, summary, err)
		r.saveAfterFailure(ctx, id, &cur, &resp.State, &resp.Diagnostics)
	}

	planNICs, d := nicModels(ctx, plan.NetworkInterfaces)
	resp.Diagnostics.Append(d...)
	stateNICs, d := nicModels(ctx, state.NetworkInterfaces)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The same steps the plan showed (plannedSteps); power is decided
	// below, against the instance as it then is.
	steps := plannedSteps(
		updateGoal{ImageID: plan.ImageID, VPCID: plan.VPCID, NICs: planNICs},
		updateGoal{ImageID: state.ImageID, VPCID: state.VPCID, NICs: stateNICs})
	if steps.modifyIP {
		in := clouddc.ModifyIPInput{VPCID: plan.VPCID.ValueString()}
		for _, n := range planNICs {
			in.NICs = append(in.NICs, clouddc.ModifyIP{SubnetID: n.SubnetID.ValueString(), IPAddress: n.IPv4Address.ValueString()})
		}
		tflog.Info(ctx, "changing the instance's network interfaces")
		if err := r.client.ModifyInstanceIP(ctx, id, in); err != nil {
			fail("Unable to Change the Instance's Network Interfaces", err)
			return
		}
		if _, err := r.client.WaitForModifyIP(ctx, id); err != nil {
			fail("Changing the Instance's Network Interfaces Failed", err)
			return
		}
	}

	// The password to set when one is needed: password, or else the
	// write-only password_wo, which only the configuration holds.
	password := desiredPassword(ctx, plan, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	reinstalled := false
	if steps.reinstall {
		tflog.Info(ctx, "reinstalling the instance's operating system", map[string]any{"image_id": plan.ImageID.ValueString()})
		if err := r.client.ReinstallOS(ctx, id, plan.ImageID.ValueString(), password); err != nil {
			fail("Unable to Reinstall the Instance", err)
			return
		}
		// The reinstall was accepted with the new password: from here on,
		// the password in state is the new one, whatever happens next.
		cur.Password, cur.PasswordWOVersion = plan.Password, plan.PasswordWOVersion
		if _, err := r.client.WaitForReinstall(ctx, id); err != nil {
			fail("Reinstalling the Instance Failed", err)
			return
		}
		reinstalled = true
	}

	if !reinstalled && passwordChanged(plan, state) {
		tflog.Info(ctx, "changing the instance's password")
		if err := r.client.ChangeInstancePassword(ctx, password, id); err != nil {
			fail("Unable to Change the Instance's Password", err)
			return
		}
		cur.Password, cur.PasswordWOVersion = plan.Password, plan.PasswordWOVersion
	}

	if want := plan.PowerState.ValueString(); want != "" && !plan.PowerState.IsUnknown() {
		// Compare with the instance as it is now: a reinstall leaves it
		// running whatever its power was before.
		st, err := r.client.ShowInstanceStatus(ctx, id)
		if err != nil {
			fail("Unable to Read the Instance's Power State", err)
			return
		}
		if powerOf(st.State) != want {
			if err := r.setPower(ctx, id, cur.ServerID.ValueString(), want); err != nil {
				fail("Unable to Power the Instance "+strings.ToUpper(want[:1])+want[1:], err)
				return
			}
		}
	}

	inst, err := r.client.GetInstance(ctx, id)
	if err != nil {
		addClientError(&resp.Diagnostics, "Unable to Read Instance After Updating It", err)
		r.saveAfterFailure(ctx, id, &cur, &resp.State, &resp.Diagnostics)
		return
	}
	plan.PowerState = cur.PowerState
	resp.Diagnostics.Append(flattenInstance(inst, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
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
	if state.DeletionProtection.ValueBool() {
		// Also when Terraform did not show the destroy to ModifyPlan.
		addDeletionProtectedError(&resp.Diagnostics, id, "destroy it")
		return
	}

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
}
