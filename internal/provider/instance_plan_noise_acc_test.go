package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// A change that only sets the password must plan as exactly that: the
// values the API keeps (state, operation_state, power_state, the assigned
// addresses) stay as they are, not "(known after apply)", so that a real
// change is not lost among a dozen unknowns.

var ipv4Pattern = regexp.MustCompile(`^\d{1,3}(\.\d{1,3}){3}$`)

// passwordOnlyPlan checks the plan of clouddc_instance.test: an in-place
// update in which the values a password change cannot touch are planned as
// their current values, and nothing at all is unknown.
func passwordOnlyPlan() []plancheck.PlanCheck {
	return []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
		plancheck.ExpectKnownValue(res, tfjsonpath.New("state"), knownvalue.StringExact("running")),
		plancheck.ExpectKnownValue(res, tfjsonpath.New("operation_state"), knownvalue.StringExact("install-succeed")),
		plancheck.ExpectKnownValue(res, tfjsonpath.New("power_state"), knownvalue.StringExact(powerOn)),
		plancheck.ExpectKnownValue(res, tfjsonpath.New("network_interfaces").AtSliceIndex(0).AtMapKey("ipv4_address"),
			knownvalue.StringRegexp(ipv4Pattern)),
		expectNothingUnknown{address: res},
	}
}

// expectNothingUnknown fails when the planned values of a resource hold any
// unknown value, and names each one.
type expectNothingUnknown struct{ address string }

func (c expectNothingUnknown) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.address || rc.Change == nil {
			continue
		}
		if unknown := unknownPaths("", rc.Change.AfterUnknown); len(unknown) > 0 {
			sort.Strings(unknown)
			resp.Error = fmt.Errorf("%s: the plan shows %s as known after apply; a password change leaves them as they are",
				c.address, strings.Join(unknown, ", "))
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c.address)
}

// unknownPaths lists the paths that a plan's after_unknown marks true.
func unknownPaths(prefix string, v any) []string {
	var out []string
	switch v := v.(type) {
	case bool:
		if v {
			out = append(out, strings.TrimPrefix(prefix, "."))
		}
	case map[string]any:
		for k, e := range v {
			out = append(out, unknownPaths(prefix+"."+k, e)...)
		}
	case []any:
		for i, e := range v {
			out = append(out, unknownPaths(fmt.Sprintf("%s[%d]", prefix, i), e)...)
		}
	}
	return out
}

func TestAccInstanceResource_passwordChangePlansNoUnknowns(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: providerConfig(sim) + instanceHCL{name: "acc-plan-noise"}.String()},
			{
				Config:           providerConfig(sim) + instanceHCL{name: "acc-plan-noise", password: "Changed-Passw0rd"}.String(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: passwordOnlyPlan()},
			},
		},
	})
}

// After an import (by identity, or by an import block's id), the first plan
// sets the password, which the API never returns, and nothing else.
func TestAccInstanceResource_importPlansNoUnknowns(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	cfg := providerConfig(sim) + instanceConfig("acc-import-noise")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   identityTerraform,
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:       res,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: passwordOnlyPlan()},
			},
			{
				ResourceName:       res,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: passwordOnlyPlan()},
			},
		},
	})
}

// What an update does change is still shown as known after apply: a power
// action moves state, an IP change operation_state too; what the image
// gives the instance stays known through both.
func TestAccInstanceResource_planShowsWhatChanges(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	base := instanceHCL{name: "acc-plan-changes"}
	off := base
	off.extra = `power_state = "off"`
	moved := off
	moved.subnet = simulator.DefaultSubnetID2
	known := func(attr, want string) plancheck.PlanCheck {
		return plancheck.ExpectKnownValue(res, tfjsonpath.New(attr), knownvalue.StringExact(want))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: providerConfig(sim) + base.String()},
			{
				Config: providerConfig(sim) + off.String(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(res, tfjsonpath.New("state")),
					known("operation_state", "install-succeed"),
					known("image_name", "Ubuntu 22.04 server 64bit"),
				}},
			},
			{
				Config: providerConfig(sim) + moved.String(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(res, tfjsonpath.New("state")),
					plancheck.ExpectUnknownValue(res, tfjsonpath.New("operation_state")),
					plancheck.ExpectUnknownValue(res, tfjsonpath.New("network_interfaces").AtSliceIndex(0).AtMapKey("ipv4_address")),
					known("image_name", "Ubuntu 22.04 server 64bit"),
					known("power_state", powerOff),
				}},
			},
		},
	})
}
