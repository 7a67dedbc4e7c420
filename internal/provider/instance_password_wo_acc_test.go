package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Write-only attributes need Terraform 1.11: older CLIs neither keep them
// out of the state nor tell the provider that they would, so the framework
// rejects a configuration that sets one. These tests run on 1.11 and later
// and are skipped below it; TestAccInstanceResource_passwordWriteOnlyOldTerraform
// covers what an older CLI does.
var writeOnlyTerraform = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)}

// woInstance is the test instance with a write-only password.
func woInstance(name, image, password string, version int) string {
	return instanceHCL{name: name, image: image, passwordWO: password, woVersion: version}.String()
}

// checkNotInState fails when any attribute of any resource in the state
// holds one of the secrets, and when password or password_wo is set.
func checkNotInState(secrets ...string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		for name, r := range st.RootModule().Resources {
			for k, v := range r.Primary.Attributes {
				for _, s := range secrets {
					if strings.Contains(v, s) {
						return fmt.Errorf("a write-only password is in the state, in %s.%s", name, k)
					}
				}
			}
		}
		return nil
	}
}

// TestAccInstanceResource_passwordWriteOnly: password_wo reaches the API
// on create, never the state; changing it alone changes nothing; bumping
// password_wo_version changes the password in place; a reinstall uses it.
func TestAccInstanceResource_passwordWriteOnly(t *testing.T) {
	const (
		pw1 = "WriteOnly-Passw0rd-1"
		pw2 = "WriteOnly-Passw0rd-2"
		pw3 = "WriteOnly-Passw0rd-3"
		pw4 = "WriteOnly-Passw0rd-4"
	)
	sim := startSimulator(t, updateSimOptions())
	var id string
	nullPassword := []statecheck.StateCheck{
		statecheck.ExpectKnownValue(res, tfjsonpath.New("password_wo"), knownvalue.Null()),
		statecheck.ExpectKnownValue(res, tfjsonpath.New("password"), knownvalue.Null()),
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   writeOnlyTerraform,
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config:            providerConfig(sim) + woInstance("acc-wo", simulator.DefaultImageID, pw1, 1),
				ConfigStateChecks: append(nullPassword, statecheck.ExpectKnownValue(res, tfjsonpath.New("password_wo_version"), knownvalue.Int64Exact(1))),
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(&id),
					resource.TestCheckResourceAttr(res, "state", "running"),
					resource.TestCheckNoResourceAttr(res, "password_wo"),
					resource.TestCheckNoResourceAttr(res, "password"),
					checkSimPassword(sim, pw1),
					checkNotInState(pw1),
				),
			},
			{
				// Terraform cannot see a new write-only value: without a
				// new version there is nothing to do.
				Config:           providerConfig(sim) + woInstance("acc-wo", simulator.DefaultImageID, pw2, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            checkSimPassword(sim, pw1),
			},
			{
				Config: providerConfig(sim) + woInstance("acc-wo", simulator.DefaultImageID, pw2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("password_wo"), knownvalue.Null()),
				}},
				ConfigStateChecks: append(nullPassword, statecheck.ExpectKnownValue(res, tfjsonpath.New("password_wo_version"), knownvalue.Int64Exact(2))),
				Check: resource.ComposeAggregateTestCheckFunc(
					sameID(&id),
					checkSimPassword(sim, pw2),
					checkNotInState(pw1, pw2),
					func(*terraform.State) error {
						if n := sim.RequestCount(simulator.OpChangePassword); n != 1 {
							return fmt.Errorf("%d password changes, want 1", n)
						}
						return nil
					},
				),
			},
			{
				// A new image reinstalls with the write-only password, in
				// the same request: no separate password change.
				Config:           providerConfig(sim) + woInstance("acc-wo", simulator.DefaultImageID2, pw3, 3),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					sameID(&id),
					resource.TestCheckResourceAttr(res, "operation_state", "reinstall-succeed"),
					resource.TestCheckResourceAttr(res, "password_wo_version", "3"),
					checkSimPassword(sim, pw3),
					checkNotInState(pw1, pw2, pw3),
					func(*terraform.State) error {
						if n := sim.RequestCount(simulator.OpChangePassword); n != 1 {
							return fmt.Errorf("%d password changes, want still 1 (the reinstall sets it)", n)
						}
						if n := sim.RequestCount(simulator.OpReinstallOS); n != 1 {
							return fmt.Errorf("%d reinstalls, want 1", n)
						}
						return nil
					},
				),
			},
			{
				// A reinstall needs a password even when the version stays
				// the same: it sends the configuration's current password_wo.
				Config:           providerConfig(sim) + woInstance("acc-wo", simulator.DefaultImageID, pw4, 3),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSimPassword(sim, pw4),
					checkNotInState(pw4),
				),
			},
		},
	})
}

// TestAccInstanceResource_passwordToWriteOnlyAndBack: moving from password
// to password_wo removes the password from the state and sets the
// write-only one in place; moving back sets password again.
func TestAccInstanceResource_passwordToWriteOnlyAndBack(t *testing.T) {
	const woPassword = "Moved-To-W0-Passw0rd"
	sim := startSimulator(t, updateSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   writeOnlyTerraform,
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceHCL{}.String(),
				Check:  resource.ComposeAggregateTestCheckFunc(captureID(&id), resource.TestCheckResourceAttr(res, "password", testPassword)),
			},
			{
				Config:           providerConfig(sim) + woInstance("acc-update", simulator.DefaultImageID, woPassword, 1),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					sameID(&id),
					resource.TestCheckNoResourceAttr(res, "password"),
					resource.TestCheckResourceAttr(res, "password_wo_version", "1"),
					checkSimPassword(sim, woPassword),
					checkNotInState(woPassword, testPassword),
				),
			},
			{
				Config:           providerConfig(sim) + instanceHCL{password: "Back-To-Passw0rd"}.String(),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					sameID(&id),
					resource.TestCheckResourceAttr(res, "password", "Back-To-Passw0rd"),
					resource.TestCheckNoResourceAttr(res, "password_wo_version"),
					checkSimPassword(sim, "Back-To-Passw0rd"),
				),
			},
		},
	})
}

// TestAccInstanceResource_passwordWriteOnlyRules: the combinations that
// are refused at plan time on a CLI that supports write-only attributes.
func TestAccInstanceResource_passwordWriteOnlyRules(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	body := func(lines ...string) string {
		return fmt.Sprintf(`
resource "clouddc_instance" "test" {
  name     = "acc-wo-rules"
  image_id = %q
  vpc_id   = %q
  network_interfaces = [{ subnet_id = %q }]
  %s
}
`, simulator.DefaultImageID, simulator.DefaultVPCID, simulator.DefaultSubnetID, strings.Join(lines, "\n  "))
	}
	tests := []struct{ name, config, want string }{
		{"password and password_wo", body(`password = "Both-Passw0rd"`, `password_wo = "Both-Passw0rd"`, `password_wo_version = 1`),
			`Conflicting Instance Passwords.*Both password and password_wo are set`},
		{"password_wo without a version", body(`password_wo = "Alone-Passw0rd"`),
			`Attribute "password_wo_version" must be specified when "password_wo" is specified`},
		{"a weak write-only password", body(`password_wo = "short"`, `password_wo_version = 1`),
			`password_wo: The password must be 8 to 26 characters long`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				TerraformVersionChecks:   writeOnlyTerraform,
				Steps: []resource.TestStep{{
					Config:      providerConfig(sim) + tc.config,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(`(?s)` + strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
}

// TestAccInstanceResource_passwordRules: refused on every CLI, write-only
// support or not: no password at all, and a version without password_wo.
func TestAccInstanceResource_passwordRules(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	noPassword := strings.Replace(instanceConfig("acc-pw-rules"), fmt.Sprintf("password = %q", testPassword), "", 1)
	versionOnly := strings.Replace(instanceConfig("acc-pw-rules"), fmt.Sprintf("password = %q", testPassword), "password_wo_version = 1", 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:      providerConfig(sim) + noPassword,
				PlanOnly:    true,
				ExpectError: wrapped(`Missing Instance Password.*never returns an instance's password.*Taking over instances installed by hand`),
			},
			{
				Config:      providerConfig(sim) + versionOnly,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Attribute\s+"password_wo"\s+must\s+be\s+specified\s+when\s+"password_wo_version"\s+is\s+specified`),
			},
		},
	})
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 0 {
		t.Errorf("%d creates reached the API", n)
	}
}

// belowWriteOnly skips a test on Terraform 1.11 and later: it is about
// what older CLIs do.
type belowWriteOnly struct{}

func (belowWriteOnly) CheckTerraformVersion(_ context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	if req.TerraformVersion.Core().GreaterThanOrEqual(tfversion.Version1_11_0) {
		resp.Skip = fmt.Sprintf("Terraform %s supports write-only attributes; this test is about older versions", req.TerraformVersion)
	}
}

// TestAccInstanceResource_passwordWriteOnlyOldTerraform: a CLI older than
// 1.11 would store a write-only value in the state, so the configuration is
// refused with an error that names the version needed, before any request.
func TestAccInstanceResource_passwordWriteOnlyOldTerraform(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{belowWriteOnly{}},
		Steps: []resource.TestStep{{
			Config:      providerConfig(sim) + woInstance("acc-wo-old", simulator.DefaultImageID, "Old-Terraform-Passw0rd", 1),
			ExpectError: regexp.MustCompile(`(?s)WriteOnly\s+Attribute\s+Not\s+Allowed.*password_wo.*Terraform\s+1.11\s+and\s+later`),
		}},
	})
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 0 {
		t.Errorf("%d creates reached the API", n)
	}
}
