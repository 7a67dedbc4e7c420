package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// What every action of the provider shares: the instance_id argument, the
// context an invocation runs in, reading the instance, and how a failed
// wait becomes a diagnostic. The progress an action reports while it waits
// is in action_progress.go; each action's own file has its schema and its
// Invoke.

// addActionWaitError reports a failed wait of an action. A timeout names
// the action's timeouts block; anything else is described as usual.
func addActionWaitError(diags *diag.Diagnostics, summary string, err error) {
	var waitErr *clouddc.WaitError
	var srvErr *clouddc.ServerWaitError
	if errors.Is(err, context.DeadlineExceeded) && (errors.As(err, &waitErr) || errors.As(err, &srvErr)) {
		diags.AddError(summary, err.Error()+".\n\nThe change may still finish on its own: the request was accepted. "+
			"If it normally takes this long, raise the limit in the action's timeouts block, for example:\n\n"+
			"  timeouts {\n    invoke = \"60m\"\n  }")
		return
	}
	addClientError(diags, summary, err)
}

// clientConfigured reports whether the provider gave an action or a list
// resource its client; it is missing when the provider's configuration is
// not known yet (it depends on values known only after an apply).
func clientConfigured(c *clouddc.Client, diags *diag.Diagnostics) bool {
	if c == nil {
		diags.AddError("Provider Not Configured",
			"The clouddc provider has no client: its configuration depends on values that are not known yet. "+
				"Apply the resources that the provider block refers to first, then run this again.")
		return false
	}
	return true
}

// invocationContext is the context an action runs in: bounded by its
// timeouts block (defaultActionTimeout when unset) and logging the
// instance's ID. It is nil, with the problem in diags, when the timeout
// cannot be read.
func invocationContext(ctx context.Context, t timeouts.Value, id string, diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	timeout, d := t.Invoke(ctx, defaultActionTimeout)
	diags.Append(d...)
	if diags.HasError() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return tflog.SetField(ctx, "instance_id", id), cancel
}

func instanceIDActionAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "ID of the instance, such as `clouddc_instance.web.id`.",
		Required:            true,
		Validators:          []validator.String{validUUID()},
	}
}

// readActionInstance reads the instance an action works on, reporting an
// error when it cannot or when the instance is gone.
func readActionInstance(ctx context.Context, c *clouddc.Client, id, title string, diags *diag.Diagnostics) *clouddc.Instance {
	inst, err := c.GetInstance(ctx, id)
	switch {
	case errors.Is(err, clouddc.ErrNotFound):
		diags.AddError("Instance Not Found", fmt.Sprintf("Instance %s does not exist in project %s, so there is nothing to %s. "+
			"Check the action's instance_id.", id, c.ProjectID(), title))
		return nil
	case err != nil:
		addClientError(diags, "Unable to Read the Instance", err)
		return nil
	case inst.State == clouddc.StateTerminated:
		diags.AddError("Instance Is Terminated", fmt.Sprintf("Instance %s is terminated, so there is nothing to %s.", id, title))
		return nil
	}
	return inst
}
