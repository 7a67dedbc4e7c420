package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// A create whose outcome is unknown when Terraform gives up on it (Ctrl-C,
// the create timeout, a lookup that could not settle it) may still make an
// instance up to a minute later, when no process waits for it any more.
// Forgetting it would orphan that instance, and the next apply would make
// a second one. So Create leaves a provisional object in the state instead:
// Terraform marks it tainted, its id is null, and its private state holds
// the create's token and the deadline until which an instance may appear.
// The next refresh settles it (settlePending): it adopts the instance that
// carries the token, or removes the object once a complete listing taken
// after the deadline shows none. Until then nothing creates a second
// instance for the resource: a refresh waits for the deadline, and a
// destroy of the object settles it first (DESIGN.md, section 6).

// privatePendingKey is the private state key of a provisional object.
const privatePendingKey = "pending_create"

// pendingCreate is what a provisional object's private state holds.
type pendingCreate struct {
	Token    string    `json:"token"`
	Deadline time.Time `json:"deadline"`
	Project  string    `json:"project_id"`
}

// privateState is the part of the framework's private state data that
// the resource uses (resp.Private in Create, Read, Update and Delete).
type privateState interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// readPending returns the pending create of a provisional object, or nil.
func readPending(ctx context.Context, p privateState) (*pendingCreate, diag.Diagnostics) {
	if p == nil {
		return nil, nil
	}
	raw, diags := p.GetKey(ctx, privatePendingKey)
	if diags.HasError() || len(raw) == 0 {
		return nil, diags
	}
	var pc pendingCreate
	if err := json.Unmarshal(raw, &pc); err != nil || pc.Token == "" {
		diags.AddError("Unreadable Private State",
			fmt.Sprintf("The state's private data for this instance cannot be read (%v). Run terraform state rm on this resource "+
				"and import the instance if it exists.", err))
		return nil, diags
	}
	return &pc, diags
}

// writePending records a pending create in private state; nil clears it.
func writePending(ctx context.Context, p privateState, pc *pendingCreate) diag.Diagnostics {
	if pc == nil {
		return p.SetKey(ctx, privatePendingKey, nil)
	}
	raw, err := json.Marshal(pc)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Unable to Record the Pending Create", err.Error())
		return diags
	}
	return p.SetKey(ctx, privatePendingKey, raw)
}

// settlePending settles the provisional object of a create whose outcome
// was unknown, for Read: it fills in state from the instance the create
// made, or reports that it made none (removed is then true). It waits for
// the deadline when needed; when it cannot tell, the diagnostics say so
// and the object stays as it is.
func (r *instanceResource) settlePending(ctx context.Context, state *instanceResourceModel, pc *pendingCreate) (inst *clouddc.Instance, removed bool, diags diag.Diagnostics) {
	in, d := expandCreateInput(ctx, *state)
	diags.Append(d...)
	if diags.HasError() {
		return nil, false, diags
	}
	if pc.Deadline.After(time.Now()) {
		tflog.Info(ctx, "an earlier create's outcome is still unknown; waiting until its deadline for its instance to appear",
			map[string]any{"name": in.Name, "deadline": pc.Deadline.UTC().Format(time.RFC3339)})
	}
	res, err := r.client.ResolveCreate(ctx, clouddc.PendingCreate{Input: in, Token: pc.Token, Deadline: pc.Deadline})
	if err != nil {
		diags.AddError("Unable to Settle an Interrupted Create",
			fmt.Sprintf("An earlier create of instance %q was interrupted (or its outcome was unknown) and may have made an instance, "+
				"which would carry metadata %s = %s. The provider could not find out whether it did:\n\n%s\n\n"+
				"Nothing was changed: the resource stays in the state until this is settled. Run the command again.",
				in.Name, clouddc.CreateTokenKey, pc.Token, describeError(err)))
		return nil, false, diags
	}
	if res.NotMade {
		diags.AddWarning("Interrupted Create Made No Instance",
			fmt.Sprintf("An earlier create of instance %q was interrupted, and no instance carrying its token (metadata %s = %s) "+
				"appeared by %s, when the API's time to carry it out ran out. It is removed from the state; the next apply creates it.",
				in.Name, clouddc.CreateTokenKey, pc.Token, pc.Deadline.UTC().Format(time.RFC3339)))
		return nil, true, diags
	}
	detail := fmt.Sprintf("An earlier create of instance %q was interrupted before its answer came. The instance it made, %s, carries "+
		"its token (metadata %s = %s) and is now in the state. It is marked tainted, so the next apply replaces it (a second full "+
		"install); to keep it instead, run terraform untaint with this resource's address (for example `terraform untaint clouddc_instance.web`).",
		in.Name, res.Instance.ID, clouddc.CreateTokenKey, pc.Token)
	if !res.Matches {
		detail += " It does not match the configuration in every field (someone may have changed it), so the next plan shows the difference."
	}
	diags.AddWarning("Instance of an Interrupted Create Found", detail)
	return res.Instance, false, diags
}

// pendingFromError is the provisional object's private state for a create
// that failed with an unknown outcome and no instance, or nil.
func pendingFromError(err *clouddc.CreateUncertainError, project string) *pendingCreate {
	if err == nil || err.InstanceID != "" || err.Deadline.IsZero() {
		return nil
	}
	return &pendingCreate{Token: err.Token, Deadline: err.Deadline, Project: project}
}

// deletePending destroys a provisional object: it settles the create
// first, and deletes the instance it made, if any.
func (r *instanceResource) deletePending(ctx context.Context, state instanceResourceModel, pc *pendingCreate, resp *resource.DeleteResponse) {
	inst, removed, diags := r.settlePending(ctx, &state, pc)
	for _, d := range diags {
		if d.Severity() == diag.SeverityError {
			resp.Diagnostics.Append(d)
		}
	}
	if diags.HasError() || removed {
		return
	}
	// Another attempt of the create may land until its deadline: the
	// destroy settles that, or the refresh of the instance kept.
	rec := &settleRecord{Token: pc.Token, Until: pc.Deadline}
	keep := func() {
		// Keep what was learned: the instance, in place of the object.
		state.ID = types.StringValue(inst.ID)
		resp.Diagnostics.Append(flattenInstance(inst, &state)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		resp.Diagnostics.Append(writePending(ctx, resp.Private, nil)...)
		resp.Diagnostics.Append(writeSettle(ctx, resp.Private, rec)...)
	}
	if state.DeletionProtection.ValueBool() {
		// The create made an instance after all, and it is protected:
		// keep it, in place of the object, as Delete keeps any other.
		addDeletionProtectedError(&resp.Diagnostics, inst.ID, "delete it", deleteRefusedAdvice)
		keep()
		return
	}
	accepted, err := r.client.TerminateInstance(ctx, inst.ID)
	if err != nil {
		summary := "Instance Was Not Deleted"
		if !accepted {
			summary = "Unable to Delete Instance"
		}
		addClientError(&resp.Diagnostics, summary, err)
		keep()
		return
	}
	r.settleBeforeForgetting(ctx, inst.ID, rec, clouddc.Duplicates{}, destroyAgain, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		keep()
	}
}

// A create whose wait did not see its window through (a late attempt, or
// a request the gateway replayed, would make a second instance carrying
// the same token after the apply is over) keeps the token, and the time
// until which that can happen, in private state (settleRecord); the
// next refresh or destroy deletes any other instance carrying the token
// (settleDuplicates), and drops the record once that time has passed and
// no other holder is left. That costs a shared listing, for those
// resources only.

// privateSettleKey is the private state key of a settleRecord.
const privateSettleKey = "unsettled_create"

// settleRecord is an unsettled create's token and its deadline.
type settleRecord struct {
	Token string    `json:"token"`
	Until time.Time `json:"until"`
}

// writeSettle records an unsettled create in private state.
func writeSettle(ctx context.Context, p privateState, rec *settleRecord) diag.Diagnostics {
	if rec == nil || rec.Token == "" {
		return nil
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Unable to Record the Unsettled Create", err.Error())
		return diags
	}
	return p.SetKey(ctx, privateSettleKey, raw)
}

// readSettle returns the record in in, or nil; an unreadable one is
// dropped from out.
func readSettle(ctx context.Context, in, out privateState, diags *diag.Diagnostics) *settleRecord {
	if in == nil || out == nil {
		return nil
	}
	raw, d := in.GetKey(ctx, privateSettleKey)
	if d.HasError() || len(raw) == 0 {
		return nil
	}
	var rec settleRecord
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Token == "" {
		diags.Append(out.SetKey(ctx, privateSettleKey, nil)...)
		return nil
	}
	return &rec
}

// settleDuplicates deletes the instances that carry the token of an
// unsettled create besides keep, with a warning, and drops the record
// once a complete listing that started after its time shows no other
// holder of the token, not even one being deleted (its deletion may still
// end in error). Failures are never fatal: the caller settles what is
// left. It returns the record (nil when there is none) and what it found.
func (r *instanceResource) settleDuplicates(ctx context.Context, in, out privateState, keep string, diags *diag.Diagnostics) (*settleRecord, clouddc.Duplicates) {
	rec := readSettle(ctx, in, out, diags)
	if rec == nil {
		return nil, clouddc.Duplicates{}
	}
	dups := r.client.RemoveTokenDuplicates(ctx, rec.Token, keep)
	warnDuplicates(diags, keep, dups)
	if dups.ListedAt.After(rec.Until) && dups.Settled() {
		diags.Append(out.SetKey(ctx, privateSettleKey, nil)...)
	}
	return rec, dups
}

// settleRead is the refresh's part: the refresh settles a record itself
// (settleWithin) rather than leave it to a later refresh or destroy,
// because Terraform may not show the record to anything after it: it
// plans a tainted object (a create that failed, a provisioner that failed,
// terraform taint) as a create with no private state and passes that
// plan's private state to the delete that replaces it, and a Read that
// removes the resource removes the record with it. It returns false when
// it could not settle: the diagnostics then hold an error, and the object
// and its record stay as they were.
func (r *instanceResource) settleRead(ctx context.Context, in, out privateState, keep string, limit time.Duration, diags *diag.Diagnostics) bool {
	rec := readSettle(ctx, in, out, diags)
	if rec == nil {
		return true
	}
	return r.settleWithin(ctx, out, keep, rec, limit, diags)
}

// settleWithin settles rec for a refresh within limit (settling deletes,
// so the delete timeout): it deletes other holders of the token, then
// settleNow.
func (r *instanceResource) settleWithin(ctx context.Context, out privateState, keep string, rec *settleRecord, limit time.Duration, diags *diag.Diagnostics) bool {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	dups := r.client.RemoveTokenDuplicates(ctx, rec.Token, keep)
	warnDuplicates(diags, keep, dups)
	return r.settleNow(ctx, out, keep, rec, dups, diags)
}

// settleNow is settleBeforeForgetting for a refresh: the record goes once
// that succeeded, and stays otherwise (the next refresh tries again).
func (r *instanceResource) settleNow(ctx context.Context, out privateState, keep string, rec *settleRecord, dups clouddc.Duplicates, diags *diag.Diagnostics) bool {
	var d diag.Diagnostics
	r.settleBeforeForgetting(ctx, keep, rec, dups, readAgain, &d)
	diags.Append(d...)
	if d.HasError() {
		diags.Append(writeSettle(ctx, out, rec)...)
		return false
	}
	diags.Append(out.SetKey(ctx, privateSettleKey, nil)...)
	return true
}

// readAgain and destroyAgain end the errors of settleBeforeForgetting.
const (
	readAgain = "The refresh stopped here, and the resource stays in the state as it was, with the record of its create, so that " +
		"nothing forgets that token. Run the command again to look again; its refresh settles the record once the API answers " +
		"and every instance carrying the token besides this one is gone."
	destroyAgain = "The resource stays in the state. Run the destroy again to look again."
)

// settleBeforeForgetting is the destroy's end of an unsettled create: the
// record goes with the resource, so nothing would look for a duplicate
// that lands later. It waits, if need be, until the create's window has
// passed and looks once more (dups is what settleDuplicates found), then
// waits until every duplicate being deleted is terminated. It fails,
// naming the token or the instance, when it cannot tell or a duplicate
// stays.
func (r *instanceResource) settleBeforeForgetting(ctx context.Context, keep string, rec *settleRecord, dups clouddc.Duplicates, again string, diags *diag.Diagnostics) {
	if rec == nil {
		return
	}
	if !dups.ListedAt.After(rec.Until) {
		tflog.Info(ctx, "waiting until the create's window has passed before the last look for duplicates", map[string]any{"until": rec.Until})
		more := r.client.SettleTokenDuplicates(ctx, rec.Token, keep, rec.Until)
		warnDuplicates(diags, keep, more)
		if more.Unsure {
			diags.AddError("Unable to Rule Out a Duplicate Instance",
				fmt.Sprintf("Instance %s was created by a create whose request may land again until %s (a gateway may replay it, or an "+
					"earlier attempt land late), but the provider could not list the project after that time to rule out a second "+
					"instance carrying its create token %s. Look for that token (the clouddc_instances data source shows it as "+
					"create_token) and delete what carries it. %s",
					keep, rec.Until.UTC().Format(time.RFC3339), rec.Token, again))
		}
		dups = dups.Add(more)
	}
	r.waitForDuplicates(ctx, keep, dups, again, diags)
}
