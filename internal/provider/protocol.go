package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// NewProtocol6Server returns the protocol 6 server of a provider, as
// providerserver.NewProtocol6 does, with one repair: write-only action
// arguments (see actionWriteOnlyRepair). main.go and the tests serve the
// provider through it, so that both see the same thing.
func NewProtocol6Server(p provider.Provider) func() tfprotov6.ProviderServer {
	framework := providerserver.NewProtocol6(p)
	return func() tfprotov6.ProviderServer {
		s := framework()
		fs, ok := s.(frameworkServer)
		if !ok {
			// Not a framework this repair knows: serve it as it is, and let
			// TestNewProtocol6Server_servesEverything say so.
			return s
		}
		return &actionWriteOnlyRepair{frameworkServer: fs}
	}
}

// frameworkServer is what the framework's server implements and Terraform
// uses: the wrapper must pass on every part of it, since tf6server offers
// Terraform list resources and actions only when the server it is given
// implements them.
type frameworkServer interface {
	tfprotov6.ProviderServer
	tfprotov6.ListResourceServer
	tfprotov6.ActionServer
}

var _ frameworkServer = (*actionWriteOnlyRepair)(nil)

// NewProtocol6ServerWithError is NewProtocol6Server in the shape that
// terraform-plugin-testing's ProtoV6ProviderFactories expect.
func NewProtocol6ServerWithError(p provider.Provider) func() (tfprotov6.ProviderServer, error) {
	server := NewProtocol6Server(p)
	return func() (tfprotov6.ProviderServer, error) { return server(), nil }
}

// actionWriteOnlyRepair works around terraform-plugin-framework v1.19.0
// (the newest release), which lets an action schema declare a write-only
// attribute but then, in ValidateActionConfig, refuses every value given to
// one: it validates action configuration as if the CLI could not send
// write-only values ("WriteOnly Attribute Not Allowed ... only supported in
// Terraform 1.11 and later"), though actions need Terraform 1.14. Terraform
// itself accepts an ephemeral value only for a write-only attribute, so the
// attribute must stay write-only.
//
// The repair removes that one error, for a write-only attribute of the
// action, from the framework's answer. Everything else the framework checks
// (required attributes, the attributes' validators) it still checks and
// reports. TestActionWriteOnlyRepair_stillNeeded fails once a framework
// release validates write-only action attributes properly: then this type
// can go.
type actionWriteOnlyRepair struct {
	frameworkServer

	once sync.Once
	// writeOnly holds, by action type, the names of the action's top-level
	// write-only attributes; actions without any are absent.
	writeOnly map[string]map[string]bool
}

// writeOnlyRefusal is the summary of the framework's error.
const writeOnlyRefusal = "WriteOnly Attribute Not Allowed"

func (s *actionWriteOnlyRepair) ValidateActionConfig(ctx context.Context, req *tfprotov6.ValidateActionConfigRequest) (*tfprotov6.ValidateActionConfigResponse, error) {
	resp, err := s.frameworkServer.ValidateActionConfig(ctx, req)
	if err != nil || resp == nil || len(resp.Diagnostics) == 0 {
		return resp, err
	}
	s.once.Do(func() { s.writeOnly = s.findWriteOnly(ctx) })
	names := s.writeOnly[req.ActionType]
	kept := resp.Diagnostics[:0:0]
	for _, d := range resp.Diagnostics {
		if d != nil && d.Severity == tfprotov6.DiagnosticSeverityError && d.Summary == writeOnlyRefusal && names[topLevelName(d.Attribute)] {
			continue
		}
		kept = append(kept, d)
	}
	resp.Diagnostics = kept
	return resp, nil
}

// topLevelName is the attribute a path names when it is a single step, else "".
func topLevelName(p *tftypes.AttributePath) string {
	if p == nil || len(p.Steps()) != 1 {
		return ""
	}
	name, _ := p.Steps()[0].(tftypes.AttributeName)
	return string(name)
}

// findWriteOnly reads the actions' write-only attributes from the schema
// the provider gives Terraform. Only top-level attributes are looked at:
// TestActionWriteOnlyRepair_topLevelOnly checks that no action has a
// write-only attribute inside a block.
func (s *actionWriteOnlyRepair) findWriteOnly(ctx context.Context) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	resp, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || resp == nil {
		return out
	}
	for name, sch := range resp.ActionSchemas {
		if sch == nil || sch.Schema == nil || sch.Schema.Block == nil {
			continue
		}
		names := map[string]bool{}
		for _, a := range sch.Schema.Block.Attributes {
			if a.WriteOnly {
				names[a.Name] = true
			}
		}
		if len(names) > 0 {
			out[name] = names
		}
	}
	return out
}
