package provider

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestAccExamples_terraform114 applies the action examples next to the
// resource example, as the documentation shows them, and runs the list
// resource's example query. Creating everything invokes no action; a
// password change then reboots web-1 through the action_trigger of the
// reboot example.
func TestAccExamples_terraform114(t *testing.T) {
	skipUnless(t, actionsTerraform)
	sim := simulator.StartTest(t, actionSimOptions())
	t.Setenv(EnvEndpoint, sim.URL)
	t.Setenv(EnvProjectID, sim.ProjectID())
	t.Setenv(EnvToken, sim.Token())
	t.Setenv("TF_VAR_root_password", "Example-Passw0rd")

	base := readExample(t, "provider/provider.tf") + readExample(t, "resources/clouddc_instance/resource.tf")
	actions, err := filepath.Glob(filepath.Join("..", "..", "examples", "actions", "*", "action.tf"))
	if err != nil || len(actions) != 4 {
		t.Fatalf("action examples: %v %v", actions, err)
	}
	var cfg strings.Builder
	cfg.WriteString(base)
	for _, f := range actions {
		cfg.WriteString(readExample(t, strings.TrimPrefix(filepath.ToSlash(f), "../../examples/")))
	}
	requests := func(op string, want int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if n := sim.RequestCount(op); n != want {
				return fmt.Errorf("%d %s requests reached the API, want %d", n, op, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   actionsTerraform,
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: cfg.String(),
				Check: resource.ComposeAggregateTestCheckFunc(
					requests(simulator.OpChangePowerState, 0),
					resource.TestCheckResourceAttr("clouddc_instance.web", "state", "running"),
				),
			},
			{
				PreConfig: func() { setenv(t, "TF_VAR_root_password", "Example-Passw0rd-2") },
				Config:    cfg.String(),
				Check: resource.ComposeAggregateTestCheckFunc(
					requests(simulator.OpChangePassword, 2), // web-1 and db-1
					requests(simulator.OpChangePowerState, 1),
					resource.TestCheckResourceAttr("clouddc_instance.web", "state", "running"),
				),
			},
			{
				Query:  true,
				Config: readExample(t, "list-resources/clouddc_instance/list-resource.tfquery.hcl"),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("clouddc_instance.web", 1),
					querycheck.ExpectLength("clouddc_instance.rack_a", 1),
				},
			},
		},
	})
}
