package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestAccInstanceResource_deletionProtection: under deletion_protection =
// true, a destroy and a replacement are refused and the instance keeps
// running; turning it off is an in-place change without an API call, and
// then the destroy goes through.
func TestAccInstanceResource_deletionProtection(t *testing.T) {
	sim := simulator.StartTest(t, fastSimOptions())
	protected := func(name, on string) string {
		return providerConfig(sim) + instanceConfig(name, "deletion_protection = "+on)
	}
	refused := func(what string) *regexp.Regexp {
		return regexp.MustCompile(strings.ReplaceAll(`(?s)Instance Is Protected From Deletion.*deletion_protection = true.*may not `+what+
			`.*set deletion_protection = false.*makes no API call`, " ", `\s+`))
	}
	var id string
	var before map[string]int
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: protected("acc-protected", "true"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "deletion_protection", "true"),
					resource.TestCheckResourceAttr(res, "state", "running"),
					captureID(&id),
				),
			},
			{
				Config:      protected("acc-protected", "true"),
				Destroy:     true,
				ExpectError: refused("destroy it"),
			},
			{
				Config:      protected("acc-protected-renamed", "true"),
				ExpectError: refused(`replace it \(a change of name needs a new instance\)`),
			},
			{
				PreConfig: func() { before = sim.RequestCounts() },
				Config:    protected("acc-protected", "false"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "deletion_protection", "false"),
					// Still the same instance, running: nothing above touched it.
					resource.TestCheckResourceAttrPtr(res, "id", &id),
					checkSimState(sim, &id, "running"),
					checkLive(sim, 1, 1),
					func(*terraform.State) error {
						// The refresh before the plan reads; the update itself calls nothing.
						for op, n := range sim.RequestCounts() {
							if op != simulator.OpListInstances && op != simulator.OpShowInstanceStatus && n != before[op] {
								return fmt.Errorf("turning deletion_protection off made %d %s requests", n-before[op], op)
							}
						}
						return nil
					},
				),
			},
		},
	})
}
