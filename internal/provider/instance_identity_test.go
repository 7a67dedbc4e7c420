package provider

import (
	"cmp"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestInstanceResource_readIdentity calls Read the way the framework does
// for state written before the resource had an identity (the prior
// identity is null), which is where a provider that sets the identity only
// on success fails with "Missing Resource Identity After Read" when the
// instance is gone. The identity must be set on every path, and a prior
// identity of another project must stop the read before it concludes
// anything.
func TestInstanceResource_readIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim := simulator.StartTest(t, fastSimOptions())
	c, err := clouddc.NewClient(clouddc.WithEndpoint(sim.URL), clouddc.WithProjectID(sim.ProjectID()),
		clouddc.WithToken(sim.Token()), clouddc.WithPollSchedule(testPollSchedule))
	if err != nil {
		t.Fatal(err)
	}
	running := createOutOfBand(t, sim, "unit-running", "Console-Passw0rd")
	terminated := createOutOfBand(t, sim, "unit-terminated", "Console-Passw0rd")
	if err := sim.DeleteInstance(terminated); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitForInstanceTerminated(ctx, terminated); err != nil {
		t.Fatal(err)
	}
	const missing = "0f0f0f0f-0000-4000-8000-000000000000"

	r := &instanceResource{client: c}
	var sch resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sch)
	var ish resource.IdentitySchemaResponse
	r.IdentitySchema(ctx, resource.IdentitySchemaRequest{}, &ish)
	identity := func(t *testing.T, id, project string) *tfsdk.ResourceIdentity {
		out := &tfsdk.ResourceIdentity{Schema: ish.IdentitySchema, Raw: tftypes.NewValue(ish.IdentitySchema.Type().TerraformType(ctx), nil)}
		if id != "" {
			if d := setInstanceIdentity(ctx, out, id, project); d.HasError() {
				t.Fatal(d)
			}
		}
		return out
	}

	const other = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name         string
		id           string
		stateProject string // the state's project_id; "-" for a state that predates it
		priorProject string // "" for a null prior identity
		wantRemoved  bool
		wantErr      string
		wantWarning  string
	}{
		{name: "running", id: running},
		{name: "running, identity known", id: running, priorProject: sim.ProjectID()},
		{name: "gone", id: missing, wantRemoved: true, wantWarning: "Instance No Longer Exists"},
		{name: "terminated", id: terminated, wantRemoved: true, wantWarning: "Instance Was Terminated"},
		{name: "other project", id: running, priorProject: other, wantErr: "Instance Belongs to Another Project"},
		// Terraform 1.5.7 and OpenTofu send no identity: the project the
		// state records stops the read all the same.
		{name: "other project, no identity", id: missing, stateProject: other, wantErr: "Instance Belongs to Another Project"},
		{name: "running, no project recorded", id: running, stateProject: "-"},
		{name: "gone, no project recorded", id: missing, stateProject: "-", wantErr: "Instance Not Found in This Project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tfsdk.State{Schema: sch.Schema, Raw: tftypes.NewValue(sch.Schema.Type().TerraformType(ctx), nil)}
			if d := st.SetAttribute(ctx, path.Root("id"), tt.id); d.HasError() {
				t.Fatal(d)
			}
			project := types.StringValue(cmp.Or(tt.stateProject, sim.ProjectID()))
			if tt.stateProject == "-" {
				project = types.StringNull()
			}
			if d := st.SetAttribute(ctx, path.Root("project_id"), project); d.HasError() {
				t.Fatal(d)
			}
			var prior *tfsdk.ResourceIdentity
			if tt.priorProject == "" {
				prior = identity(t, "", "")
			} else {
				prior = identity(t, tt.id, tt.priorProject)
			}
			req := resource.ReadRequest{State: st, Identity: prior}
			resp := resource.ReadResponse{State: st, Identity: &tfsdk.ResourceIdentity{Schema: prior.Schema, Raw: prior.Raw.Copy()}}
			r.Read(ctx, req, &resp)

			if tt.wantErr != "" {
				if !resp.Diagnostics.HasError() || !strings.Contains(resp.Diagnostics.Errors()[0].Summary(), tt.wantErr) {
					t.Fatalf("diagnostics = %v; want error %q", resp.Diagnostics, tt.wantErr)
				}
				if resp.State.Raw.IsNull() {
					t.Error("the resource was removed from the state although nothing is known about it")
				}
				return
			}
			if resp.Diagnostics.HasError() {
				t.Fatalf("Read failed: %v", resp.Diagnostics)
			}
			if resp.State.Raw.IsNull() != tt.wantRemoved {
				t.Errorf("removed = %v; want %v", resp.State.Raw.IsNull(), tt.wantRemoved)
			}
			if tt.wantWarning != "" && (len(resp.Diagnostics.Warnings()) != 1 || resp.Diagnostics.Warnings()[0].Summary() != tt.wantWarning) {
				t.Errorf("warnings = %v; want %q", resp.Diagnostics.Warnings(), tt.wantWarning)
			}
			var got instanceIdentityModel
			if d := resp.Identity.Get(ctx, &got); d.HasError() {
				t.Fatal(d)
			}
			want := instanceIdentityModel{ID: types.StringValue(tt.id), ProjectID: types.StringValue(sim.ProjectID())}
			if got != want {
				t.Errorf("identity = %+v; want %+v", got, want)
			}
		})
	}
}
