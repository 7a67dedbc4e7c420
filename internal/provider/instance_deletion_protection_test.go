package provider

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestInstanceResource_deleteRefusedWhenProtected: Delete refuses a
// protected instance before any API call, whether or not ModifyPlan saw
// the destroy. The resource has no client: a call would panic.
func TestInstanceResource_deleteRefusedWhenProtected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := &instanceResource{}
	var sch resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sch)
	state := tfsdk.State{Schema: sch.Schema, Raw: tftypes.NewValue(sch.Schema.Type().TerraformType(ctx), nil)}
	if d := state.SetAttribute(ctx, path.Root("id"), types.StringValue("2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d")); d.HasError() {
		t.Fatal(d)
	}
	if d := state.SetAttribute(ctx, path.Root("deletion_protection"), types.BoolValue(true)); d.HasError() {
		t.Fatal(d)
	}
	resp := resource.DeleteResponse{State: state}
	r.Delete(ctx, resource.DeleteRequest{State: state}, &resp)
	if resp.Diagnostics.ErrorsCount() != 1 || resp.Diagnostics.Errors()[0].Summary() != "Instance Is Protected From Deletion" {
		t.Fatalf("diagnostics %v, want the deletion protection error", resp.Diagnostics)
	}
	// Delete is reached for a tainted or -replace'd instance, whose state
	// keeps deletion_protection = true: untaint is the advice that works.
	if d := resp.Diagnostics.Errors()[0].Detail(); !strings.Contains(d, "terraform untaint") || !strings.Contains(d, "would not help") {
		t.Errorf("the refusal does not point to terraform untaint:\n%s", d)
	}
}

// TestReplacingAttributes: the attributes ModifyPlan compares to refuse a
// replacement are exactly those whose plan modifiers replace the instance,
// so that a new RequiresReplace cannot slip past deletion_protection.
func TestReplacingAttributes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var sch resource.SchemaResponse
	(&instanceResource{}).Schema(ctx, resource.SchemaRequest{}, &sch)
	want := map[string]bool{}
	for name, a := range sch.Schema.Attributes {
		var mods []interface{ Description(context.Context) string }
		switch a := a.(type) {
		case schema.StringAttribute:
			for _, m := range a.PlanModifiers {
				mods = append(mods, m)
			}
		case schema.MapAttribute:
			for _, m := range a.PlanModifiers {
				mods = append(mods, m)
			}
		case schema.ListNestedAttribute:
			for _, m := range a.PlanModifiers {
				mods = append(mods, m)
			}
		case schema.Int64Attribute:
			for _, m := range a.PlanModifiers {
				mods = append(mods, m)
			}
		case schema.BoolAttribute:
			for _, m := range a.PlanModifiers {
				mods = append(mods, m)
			}
		}
		for _, m := range mods {
			if strings.Contains(m.Description(ctx), "destroy and recreate") {
				want[name] = true
			}
		}
	}
	got := map[string]bool{}
	for _, a := range replacingAttributes {
		got[a.name] = true
	}
	if len(want) == 0 || !maps.Equal(got, want) {
		t.Errorf("replacingAttributes %v, want the attributes that require replacement: %v", got, want)
	}
}
