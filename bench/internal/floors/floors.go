// Package floors holds the two providers the plan benchmark measures
// clouddc_instance against, on the same CLI: what planning a resource costs
// in Terraform and terraform-plugin-framework before any logic of ours.
// They are never released, and they only plan: applying them fails.
//
//   - OneAttribute (floorone_thing) has one attribute and nothing else:
//     the per-resource cost of the CLI and the framework.
//   - SameSchema (floorschema_instance) has clouddc_instance's schema
//     (its attributes, nested network interfaces, defaults, timeouts block
//     and identity, taken from the provider itself so that the two never
//     drift apart) without any plan modifier, validator, configuration
//     validator or ModifyPlan. What planning clouddc_instance costs beyond
//     it is what the provider's own plan logic costs.
//
// bench/cmd serves each as a provider binary; the harness also serves them
// in its own process to profile them.
package floors

import (
	"context"
	"fmt"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"

	clouddc "github.com/clouddc-tf/terraform-provider-clouddc/internal/provider"
)

// Registry addresses of the floors, under which their binaries serve.
const (
	OneAttributeAddress = "registry.terraform.io/clouddc-tf/floorone"
	SameSchemaAddress   = "registry.terraform.io/clouddc-tf/floorschema"
)

// OneAttribute is the provider floorone.
func OneAttribute() provider.Provider {
	return floor{name: "floorone", resource: func() resource.Resource { return thing{} }}
}

// SameSchema is the provider floorschema.
func SameSchema() provider.Provider {
	return floor{name: "floorschema", resource: func() resource.Resource { return instance{} }}
}

// floor is a provider of one resource, without settings or data sources.
type floor struct {
	name     string
	resource func() resource.Resource
}

func (f floor) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = f.name
}

func (floor) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (floor) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}

func (f floor) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{f.resource}
}

func (floor) DataSources(context.Context) []func() datasource.DataSource { return nil }

// planOnly gives a floor's resource the operations it never needs: the
// benchmark only plans, so applying fails, and reading keeps the state.
type planOnly struct{}

func (planOnly) Create(_ context.Context, _ resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics.AddError("A Benchmark Floor", "This provider only plans; it never applies.")
}

func (planOnly) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (planOnly) Update(_ context.Context, _ resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("A Benchmark Floor", "This provider only plans; it never applies.")
}

func (planOnly) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// thing is floorone_thing.
type thing struct{ planOnly }

func (thing) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_thing"
}

func (thing) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"name": schema.StringAttribute{Required: true},
	}}
}

// instance is floorschema_instance.
type instance struct{ planOnly }

var _ resource.ResourceWithIdentity = instance{}

func (instance) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance"
}

func (instance) Schema(ctx context.Context, req resource.SchemaRequest, resp *resource.SchemaResponse) {
	clouddc.NewInstanceResource().Schema(ctx, req, resp)
	s := resp.Schema
	s.Attributes = stripAttributes(s.Attributes)
	blocks := make(map[string]schema.Block, len(s.Blocks))
	for name, b := range s.Blocks {
		blocks[name] = stripBlock(b)
	}
	s.Blocks = blocks
	resp.Schema = s
}

func (instance) IdentitySchema(ctx context.Context, req resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	r, ok := clouddc.NewInstanceResource().(resource.ResourceWithIdentity)
	if !ok {
		panic("clouddc_instance has no identity any more: update the floor")
	}
	r.IdentitySchema(ctx, req, resp)
}

// stripAttributes copies attributes without their plan modifiers and
// validators, at every depth. A nested attribute of a kind it does not
// recurse into stops the benchmark: the floor must keep the schema's shape
// exactly.
func stripAttributes(in map[string]schema.Attribute) map[string]schema.Attribute {
	out := make(map[string]schema.Attribute, len(in))
	for name, a := range in {
		switch nested := a.(type) {
		case schema.ListNestedAttribute:
			nested.NestedObject.Attributes = stripAttributes(nested.NestedObject.Attributes)
			nested.NestedObject.PlanModifiers, nested.NestedObject.Validators = nil, nil
			a = nested
		case schema.SetNestedAttribute, schema.MapNestedAttribute, schema.SingleNestedAttribute:
			panic(fmt.Sprintf("floorschema: attribute %s is a %T, which the floor does not strip yet", name, a))
		}
		out[name] = withoutLogic(a)
	}
	return out
}

// withoutLogic is a copy of an attribute whose PlanModifiers and
// Validators (every attribute type has both, each of a type of its own)
// are empty.
func withoutLogic(a schema.Attribute) schema.Attribute {
	v := reflect.New(reflect.TypeOf(a)).Elem()
	v.Set(reflect.ValueOf(a))
	for _, field := range []string{"PlanModifiers", "Validators"} {
		f := v.FieldByName(field)
		if !f.IsValid() {
			panic(fmt.Sprintf("floorschema: a %T has no %s", a, field))
		}
		f.SetZero()
	}
	out, ok := v.Interface().(schema.Attribute)
	if !ok {
		panic(fmt.Sprintf("floorschema: a copy of a %T is no attribute", a))
	}
	return out
}

func stripBlock(b schema.Block) schema.Block {
	switch b := b.(type) {
	case schema.SingleNestedBlock:
		b.PlanModifiers, b.Validators = nil, nil
		b.Attributes = stripAttributes(b.Attributes)
		return b
	default:
		panic(fmt.Sprintf("floorschema: a block is a %T, which the floor does not strip yet", b))
	}
}
