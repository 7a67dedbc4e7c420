package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

const reinstallAction = "clouddc_instance_reinstall"

// reinstallConfig is a configuration of the reinstall action as Terraform
// sends it, with the given password (nil for none).
func reinstallConfig(t *testing.T, server tfprotov6.ProviderServer, password any) *tfprotov6.DynamicValue {
	t.Helper()
	schemas, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sch := schemas.ActionSchemas[reinstallAction]
	if sch == nil {
		t.Fatalf("no schema for %s", reinstallAction)
	}
	typ := sch.Schema.ValueType()
	obj, ok := typ.(tftypes.Object)
	if !ok {
		t.Fatalf("the action's type is %T", typ)
	}
	vals := map[string]tftypes.Value{}
	for name, at := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals["instance_id"] = tftypes.NewValue(tftypes.String, "2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d")
	vals["password"] = tftypes.NewValue(tftypes.String, password)
	if _, ok := obj.AttributeTypes["deletion_protection"]; ok {
		vals["deletion_protection"] = tftypes.NewValue(tftypes.Bool, false)
	}
	dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

func validateReinstall(t *testing.T, server tfprotov6.ProviderServer, password any) []*tfprotov6.Diagnostic {
	t.Helper()
	actions, ok := server.(tfprotov6.ActionServer)
	if !ok {
		t.Fatalf("%T serves no actions", server)
	}
	resp, err := actions.ValidateActionConfig(context.Background(), &tfprotov6.ValidateActionConfigRequest{
		ActionType: reinstallAction, Config: reinstallConfig(t, server, password),
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Diagnostics
}

func summaries(diags []*tfprotov6.Diagnostic) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary+": "+d.Detail)
	}
	return out
}

// TestActionWriteOnlyRepair_stillNeeded: the framework by itself refuses
// any value of a write-only action attribute. When this test fails, a
// framework release has fixed it: remove actionWriteOnlyRepair.
func TestActionWriteOnlyRepair_stillNeeded(t *testing.T) {
	t.Parallel()
	framework := providerserver.NewProtocol6(New("test")())()
	diags := validateReinstall(t, framework, "Valid-Passw0rd")
	found := false
	for _, d := range diags {
		found = found || (d.Summary == writeOnlyRefusal && topLevelName(d.Attribute) == "password")
	}
	if !found {
		t.Errorf("the framework no longer refuses a write-only action value (diagnostics: %q); remove actionWriteOnlyRepair", summaries(diags))
	}
}

// TestActionWriteOnlyRepair: through the provider's own server, a valid
// write-only password passes, and the framework's other checks of it
// (required, the password rules) still run.
func TestActionWriteOnlyRepair(t *testing.T) {
	t.Parallel()
	server := NewProtocol6Server(New("test")())()
	if diags := validateReinstall(t, server, "Valid-Passw0rd"); len(diags) != 0 {
		t.Errorf("a valid write-only password is refused: %q", summaries(diags))
	}
	weak := summaries(validateReinstall(t, server, "short"))
	if len(weak) != 1 || !strings.Contains(weak[0], "8 to 26 characters") {
		t.Errorf("a weak password gives %q; want the password rule", weak)
	}
	missing := summaries(validateReinstall(t, server, nil))
	if len(missing) != 1 || !strings.Contains(missing[0], "Missing Configuration for Required Attribute") {
		t.Errorf("no password gives %q; want the required attribute's error", missing)
	}
}

// TestActionWriteOnlyRepair_topLevelOnly: the repair looks at top-level
// attributes only, so no action may have a write-only attribute in a block.
func TestActionWriteOnlyRepair_topLevelOnly(t *testing.T) {
	t.Parallel()
	schemas, err := NewProtocol6Server(New("test")())().GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(action, at string, b *tfprotov6.SchemaBlock)
	walk = func(action, at string, b *tfprotov6.SchemaBlock) {
		for _, nb := range b.BlockTypes {
			for _, a := range nb.Block.Attributes {
				if a.WriteOnly {
					t.Errorf("action %s has the write-only attribute %s%s.%s inside a block, which actionWriteOnlyRepair does not see",
						action, at, nb.TypeName, a.Name)
				}
			}
			walk(action, at+nb.TypeName+".", nb.Block)
		}
	}
	for name, sch := range schemas.ActionSchemas {
		walk(name, "", sch.Schema.Block)
	}
}

// TestNewProtocol6Server_servesEverything: the repaired server still offers
// Terraform the list resource and the actions; tf6server offers only what
// the server it is given implements.
func TestNewProtocol6Server_servesEverything(t *testing.T) {
	t.Parallel()
	server := NewProtocol6Server(New("test")())()
	if _, ok := server.(*actionWriteOnlyRepair); !ok {
		t.Errorf("NewProtocol6Server returned %T, not the repaired server: the framework's server no longer implements frameworkServer", server)
	}
	if _, ok := server.(tfprotov6.ActionServer); !ok {
		t.Error("the provider's server offers no actions")
	}
	if _, ok := server.(tfprotov6.ListResourceServer); !ok {
		t.Error("the provider's server offers no list resources")
	}
}
