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
// then the destroy goes through. It runs on an external endpoint too.
func TestAccInstanceResource_deletionProtection(t *testing.T) {
	a := newAccTarget(t)
	name, renamed := a.name("protected"), a.name("protected-renamed")
	protected := func(name, on string) string {
		return a.providerConfig() + a.instanceConfig(name, "deletion_protection = "+on)
	}
	refused := func(what string) *regexp.Regexp {
		return regexp.MustCompile(strings.ReplaceAll(`(?s)Instance Is Protected From Deletion.*deletion_protection = true.*may not `+what+
			`.*set deletion_protection = false.*makes no API call`, " ", `\s+`))
	}
	var id string
	var before map[string]int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories(),
		CheckDestroy:             a.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: protected(name, "true"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "deletion_protection", "true"),
					resource.TestCheckResourceAttr(res, "state", "running"),
					captureID(&id),
				),
			},
			{
				Config:      protected(name, "true"),
				Destroy:     true,
				ExpectError: refused("destroy it"),
			},
			{
				Config:      protected(renamed, "true"),
				ExpectError: refused(`replace it \(a change of name needs a new instance\)`),
			},
			{
				PreConfig: func() {
					if a.sim != nil {
						before = a.sim.RequestCounts()
					}
				},
				Config: protected(name, "false"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "deletion_protection", "false"),
					// Still the same instance, running: nothing above touched it.
					resource.TestCheckResourceAttrPtr(res, "id", &id),
					a.checkRunning(&id),
					func(*terraform.State) error {
						if a.sim == nil {
							return nil // an account does not count its requests for us
						}
						// The refresh before the plan reads; the update itself calls nothing.
						for op, n := range a.sim.RequestCounts() {
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
