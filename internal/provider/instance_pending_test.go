package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestInstanceResource_failedDeleteAnswersWithNoObject: a destroy that
// fails answers with no object, so that Terraform keeps the object it had
// with its private state (for a tainted object it replaces, Terraform
// would otherwise store the create plan's private state in its place, and
// the record of an interrupted create would be lost). A provisional object
// whose record did not reach the delete (-refresh=false) is refused. The
// resource has no client: a call would panic.
func TestInstanceResource_failedDeleteAnswersWithNoObject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := &instanceResource{}
	var sch resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sch)
	for _, tc := range []struct {
		name, id  string
		protected bool
		want      string
	}{
		{"provisional object without its record", "", false, "Interrupted Create Not Settled Yet"},
		{"protected", "2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d", true, "Instance Is Protected From Deletion"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := tfsdk.State{Schema: sch.Schema, Raw: tftypes.NewValue(sch.Schema.Type().TerraformType(ctx), nil)}
			id := types.StringNull()
			if tc.id != "" {
				id = types.StringValue(tc.id)
			}
			if d := state.SetAttribute(ctx, path.Root("id"), id); d.HasError() {
				t.Fatal(d)
			}
			if d := state.SetAttribute(ctx, path.Root("name"), types.StringValue("web")); d.HasError() {
				t.Fatal(d)
			}
			if d := state.SetAttribute(ctx, path.Root("deletion_protection"), types.BoolValue(tc.protected)); d.HasError() {
				t.Fatal(d)
			}
			resp := resource.DeleteResponse{State: state}
			r.Delete(ctx, resource.DeleteRequest{State: state}, &resp)
			if resp.Diagnostics.ErrorsCount() != 1 || resp.Diagnostics.Errors()[0].Summary() != tc.want {
				t.Fatalf("diagnostics %v, want %q", resp.Diagnostics, tc.want)
			}
			if !resp.State.Raw.IsNull() {
				t.Errorf("the failed destroy answered with an object; Terraform would store it with the private state the delete got")
			}
		})
	}
}
