package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestAccInstanceResource_identity: the identity holds the instance ID and
// the project, and an instance imports by identity and by an import block's
// id. The plan after either import changes the password in place (the API
// never returns it) and replaces nothing.
func TestAccInstanceResource_identity(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	cfg := providerConfig(sim) + instanceConfig("acc-identity")
	passwordOnly := []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   identityTerraform,
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(res, map[string]knownvalue.Check{
						"id":         knownvalue.StringRegexp(uuidPattern),
						"project_id": knownvalue.StringExact(sim.ProjectID()),
					}),
					statecheck.ExpectIdentityValueMatchesState(res, tfjsonpath.New("id")),
				},
			},
			{
				ResourceName:       res,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: passwordOnly},
			},
			{
				ResourceName:       res,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: passwordOnly},
			},
		},
	})
}

// TestAccInstanceResource_importIdentityOtherProject: an identity that
// names another project than the provider's is refused before any read,
// and so is one whose id is not an instance ID.
func TestAccInstanceResource_importIdentityOtherProject(t *testing.T) {
	skipUnless(t, identityTerraform)
	sim := startSimulator(t, fastSimOptions())
	id := createOutOfBand(t, sim, "acc-identity-other", "Other-Console-Passw0rd1")
	importBlock := func(identity string) string {
		return fmt.Sprintf("\nimport {\n  to       = %s\n  identity = %s\n}\n", res, identity)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   identityTerraform,
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-identity-other") +
					importBlock(fmt.Sprintf(`{ id = %q, project_id = "0123456789abcdef0123456789abcdef" }`, id)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Instance Is in Another Project.*0123456789abcdef0123456789abcdef`),
			},
			{
				Config:      providerConfig(sim) + instanceConfig("acc-identity-other") + importBlock(`{ id = "web-1" }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Import ID.*"web-1" is not an instance ID. The identity's id`),
			},
			{
				// Without project_id, the provider's project is taken.
				Config: providerConfig(sim) + instanceConfig("acc-identity-other") + importBlock(fmt.Sprintf(`{ id = %q }`, id)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(res, map[string]knownvalue.Check{
						"id":         knownvalue.StringExact(id),
						"project_id": knownvalue.StringExact(sim.ProjectID()),
					}),
				},
				Check: checkSimPassword(sim, testPassword),
			},
		},
	})
}

// TestAccInstanceResource_identityWhenGone: an instance deleted outside
// Terraform is removed from the state with a warning, not with "Missing
// Resource Identity After Read".
func TestAccInstanceResource_identityWhenGone(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   identityTerraform,
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-identity-gone"),
				Check:  captureID(&id),
			},
			{
				PreConfig: func() {
					if err := sim.RemoveInstance(id); err != nil {
						t.Fatal(err)
					}
				},
				Config:             providerConfig(sim) + instanceConfig("acc-identity-gone"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}
