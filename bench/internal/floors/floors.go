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
func OneAttribute() provider.Provider { return oneFloor{} }

// SameSchema is the provider floorschema.
func SameSchema() provider.Provider { return schemaFloor{} }

type oneFloor struct{}

func (oneFloor) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "floorone"
}

func (oneFloor) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (oneFloor) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}

func (oneFloor) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return thing{} }}
}

func (oneFloor) DataSources(context.Context) []func() datasource.DataSource { return nil }

type thing struct{}

func (thing) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_thing"
}

func (thing) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"name": schema.StringAttribute{Required: true},
	}}
}

func (thing) Create(_ context.Context, _ resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics.AddError("A Benchmark Floor", "floorone only plans; it never applies.")
}

func (thing) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (thing) Update(_ context.Context, _ resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("A Benchmark Floor", "floorone only plans; it never applies.")
}

func (thing) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

type schemaFloor struct{}

func (schemaFloor) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "floorschema"
}

func (schemaFloor) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (schemaFloor) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (schemaFloor) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return instance{} }}
}

func (schemaFloor) DataSources(context.Context) []func() datasource.DataSource { return nil }

// instance is floorschema_instance.
type instance struct{}

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

func (instance) Create(_ context.Context, _ resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics.AddError("A Benchmark Floor", "floorschema only plans; it never applies.")
}

func (instance) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (instance) Update(_ context.Context, _ resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("A Benchmark Floor", "floorschema only plans; it never applies.")
}

func (instance) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// stripAttributes copies attributes without their plan modifiers and
// validators, at every depth. An attribute type it does not know stops
// the benchmark: the floor must keep the schema's shape exactly.
func stripAttributes(in map[string]schema.Attribute) map[string]schema.Attribute {
	out := make(map[string]schema.Attribute, len(in))
	for name, a := range in {
		switch a := a.(type) {
		case schema.StringAttribute:
			a.PlanModifiers, a.Validators = nil, nil
			out[name] = a
		case schema.BoolAttribute:
			a.PlanModifiers, a.Validators = nil, nil
			out[name] = a
		case schema.Int64Attribute:
			a.PlanModifiers, a.Validators = nil, nil
			out[name] = a
		case schema.MapAttribute:
			a.PlanModifiers, a.Validators = nil, nil
			out[name] = a
		case schema.ListNestedAttribute:
			a.PlanModifiers, a.Validators = nil, nil
			a.NestedObject.Attributes = stripAttributes(a.NestedObject.Attributes)
			a.NestedObject.PlanModifiers, a.NestedObject.Validators = nil, nil
			out[name] = a
		default:
			panic(fmt.Sprintf("floorschema: attribute %s is a %T, which the floor does not strip yet", name, a))
		}
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
