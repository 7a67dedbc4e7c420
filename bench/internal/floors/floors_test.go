package floors

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"

	clouddc "github.com/clouddc-tf/terraform-provider-clouddc/internal/provider"
)

// TestSameSchema: the floor has every attribute and block of
// clouddc_instance, of the same type and kind, at every depth, and no plan
// modifier or validator anywhere.
func TestSameSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var want, floor resource.SchemaResponse
	clouddc.NewInstanceResource().Schema(ctx, resource.SchemaRequest{}, &want)
	instance{}.Schema(ctx, resource.SchemaRequest{}, &floor)
	if !want.Schema.Type().TerraformType(ctx).Equal(floor.Schema.Type().TerraformType(ctx)) {
		t.Fatalf("the floor's type differs from clouddc_instance's:\n%s\n%s", floor.Schema.Type(), want.Schema.Type())
	}
	for name, a := range want.Schema.Attributes {
		f := floor.Schema.Attributes[name]
		if f.IsRequired() != a.IsRequired() || f.IsOptional() != a.IsOptional() || f.IsComputed() != a.IsComputed() ||
			f.IsSensitive() != a.IsSensitive() || f.IsWriteOnly() != a.IsWriteOnly() {
			t.Errorf("%s: required/optional/computed/sensitive/write-only differ", name)
		}
	}
	var check func(path string, attrs map[string]schema.Attribute)
	check = func(path string, attrs map[string]schema.Attribute) {
		for name, a := range attrs {
			// Every attribute type has PlanModifiers and Validators, of
			// a type of its own.
			v := reflect.ValueOf(a)
			if v.FieldByName("PlanModifiers").Len()+v.FieldByName("Validators").Len() > 0 {
				t.Errorf("%s%s keeps plan modifiers or validators", path, name)
			}
			if nested, ok := a.(schema.ListNestedAttribute); ok {
				check(path+name+".", nested.NestedObject.Attributes)
			}
		}
	}
	check("", floor.Schema.Attributes)
	for name, b := range floor.Schema.Blocks {
		nb, ok := b.(schema.SingleNestedBlock)
		if !ok {
			t.Fatalf("block %s is a %T", name, b)
		}
		check(name+".", nb.Attributes)
	}
	var realID, floorID resource.IdentitySchemaResponse
	withID, ok := clouddc.NewInstanceResource().(resource.ResourceWithIdentity)
	if !ok {
		t.Fatal("clouddc_instance has no identity")
	}
	withID.IdentitySchema(ctx, resource.IdentitySchemaRequest{}, &realID)
	instance{}.IdentitySchema(ctx, resource.IdentitySchemaRequest{}, &floorID)
	var realNames, floorNames []string
	for n := range realID.IdentitySchema.Attributes {
		realNames = append(realNames, n)
	}
	for n := range floorID.IdentitySchema.Attributes {
		floorNames = append(floorNames, n)
	}
	slices.Sort(realNames)
	slices.Sort(floorNames)
	if !slices.Equal(realNames, floorNames) {
		t.Errorf("identity attributes %v, want %v", floorNames, realNames)
	}
}
