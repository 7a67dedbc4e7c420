package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Two VPCs, so that vpc_id can change in place.
const (
	otherVPCID    = "c0000000-0000-4000-8000-000000000002"
	otherSubnetID = "d0000000-0000-4000-8000-000000000003"
)

func TestAccInstanceResource_updatePassword(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: providerConfig(sim) + instanceHCL{}.String(), Check: captureID(&id)},
			{
				Config:           providerConfig(sim) + instanceHCL{password: "Changed-Passw0rd"}.String(),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(sameID(&id), checkSimPassword(sim, "Changed-Passw0rd"), func(*terraform.State) error {
					if n := sim.RequestCount(simulator.OpChangePassword); n != 1 {
						return fmt.Errorf("%d password changes", n)
					}
					return nil
				}),
			},
		},
	})
}

func TestAccInstanceResource_updateImage(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: providerConfig(sim) + instanceHCL{}.String(), Check: captureID(&id)},
			{
				// A new image and a new password together: one reinstall with
				// the new password, no separate password change.
				Config: providerConfig(sim) + instanceHCL{image: simulator.DefaultImageID2, password: "Reinstall-Passw0rd"}.String(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(res, tfjsonpathNew("image_name")),
					plancheck.ExpectUnknownValue(res, tfjsonpathNew("launched_at")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					sameID(&id),
					resource.TestCheckResourceAttr(res, "image_name", "CentOS 7.9 64bit"),
					resource.TestCheckResourceAttr(res, "operation_state", "reinstall-succeed"),
					resource.TestCheckResourceAttr(res, "state", "running"),
					checkSimPassword(sim, "Reinstall-Passw0rd"),
					func(*terraform.State) error {
						if n := sim.RequestCount(simulator.OpChangePassword); n != 0 {
							return fmt.Errorf("%d separate password changes after a reinstall", n)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccInstanceResource_updateNetwork(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	var id, firstAddr string
	two := fmt.Sprintf(`[{ subnet_id = %q }, { subnet_id = %q, ipv4_address = "192.168.1.77" }]`, simulator.DefaultSubnetID, simulator.DefaultSubnetID2)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceHCL{}.String(),
				Check: resource.ComposeAggregateTestCheckFunc(captureID(&id), func(s *terraform.State) error {
					firstAddr = s.RootModule().Resources[res].Primary.Attributes["network_interfaces.0.ipv4_address"]
					return nil
				}),
			},
			{
				// A second NIC with a fixed address; the first keeps the
				// address the API gave it.
				Config:           providerConfig(sim) + instanceHCL{nics: two}.String(),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					sameID(&id),
					resource.TestCheckResourceAttrPtr(res, "network_interfaces.0.ipv4_address", &firstAddr),
					resource.TestCheckResourceAttr(res, "network_interfaces.1.ipv4_address", "192.168.1.77"),
					resource.TestCheckResourceAttr(res, "operation_state", "modify-ip-succeed"),
					checkInstancePtr(sim, &id, func(in simulator.Instance) error {
						if len(in.NetworkInterfaces) != 2 || in.NetworkInterfaces[1].IPv4Address != "192.168.1.77" {
							return fmt.Errorf("the API has NICs %+v", in.NetworkInterfaces)
						}
						return nil
					}),
				),
			},
			{
				// Move to the other VPC.
				Config: providerConfig(sim) + instanceHCL{vpc: otherVPCID,
					nics: fmt.Sprintf(`[{ subnet_id = %q, ipv4_address = "10.20.0.9" }]`, otherSubnetID)}.String(),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					sameID(&id),
					resource.TestCheckResourceAttr(res, "vpc_id", otherVPCID),
					resource.TestCheckResourceAttr(res, "network_interfaces.#", "1"),
					resource.TestCheckResourceAttr(res, "network_interfaces.0.ipv4_address", "10.20.0.9"),
				),
			},
		},
	})
}

func TestAccInstanceResource_powerState(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceHCL{}.String(),
				Check: resource.ComposeAggregateTestCheckFunc(captureID(&id),
					resource.TestCheckResourceAttr(res, "power_state", "on")),
			},
			{
				Config:           providerConfig(sim) + instanceHCL{extra: `power_state = "off"`}.String(),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(sameID(&id),
					resource.TestCheckResourceAttr(res, "state", "stopped"),
					resource.TestCheckResourceAttr(res, "power_state", "off"),
					checkSimState(sim, &id, "stopped")),
			},
			{
				Config:           providerConfig(sim) + instanceHCL{extra: `power_state = "on"`}.String(),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(sameID(&id),
					resource.TestCheckResourceAttr(res, "state", "running"),
					checkSimState(sim, &id, "running")),
			},
			{
				// Unset: the provider reports the power and changes nothing.
				Config:           providerConfig(sim) + instanceHCL{}.String(),
				ConfigPlanChecks: expectAction(plancheck.ResourceActionNoop),
			},
		},
	})
}

func TestAccInstanceResource_createPoweredOff(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{{
			Config: providerConfig(sim) + instanceHCL{extra: `power_state = "off"`}.String(),
			Check: resource.ComposeAggregateTestCheckFunc(captureID(&id),
				resource.TestCheckResourceAttr(res, "state", "stopped"),
				checkSimState(sim, &id, "stopped")),
		}},
	})
}

func TestAccInstanceResource_replacingAttributes(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	servers := sim.Servers()
	step := func(h instanceHCL) resource.TestStep {
		return resource.TestStep{Config: providerConfig(sim) + h.String(), ConfigPlanChecks: expectAction(plancheck.ResourceActionDestroyBeforeCreate)}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: providerConfig(sim) + instanceHCL{}.String()},
			step(instanceHCL{name: "acc-renamed"}),
			step(instanceHCL{name: "acc-renamed", extra: `description = "now described"`}),
			step(instanceHCL{name: "acc-renamed", extra: `description = "now described"
  metadata = { team = "a" }`}),
			step(instanceHCL{name: "acc-renamed", extra: `description = "now described"
  metadata = { team = "b" }`}),
			step(instanceHCL{name: "acc-renamed", extra: fmt.Sprintf(`description = "now described"
  metadata = { team = "b" }
  server_id = %q`, servers[len(servers)-1].ID)}),
		},
	})
}

func TestAccInstanceResource_failedUpdateLeavesTheRest(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: providerConfig(sim) + instanceHCL{}.String(), Check: captureID(&id)},
			{
				// The new address is set, then the reinstall fails: state
				// keeps the new address and the old image.
				PreConfig: func() { sim.FailNextReinstall("iMetal.0099", "image download failed") },
				Config: providerConfig(sim) + instanceHCL{image: simulator.DefaultImageID2,
					nics: fmt.Sprintf(`[{ subnet_id = %q, ipv4_address = "192.168.0.99" }]`, simulator.DefaultSubnetID)}.String(),
				ExpectError: regexp.MustCompile(`(?s)Reinstalling the Instance Failed.*error_type: reinstall_error.*image download failed`),
			},
			{
				// Only the image is left to change.
				Config: providerConfig(sim) + instanceHCL{image: simulator.DefaultImageID2,
					nics: fmt.Sprintf(`[{ subnet_id = %q, ipv4_address = "192.168.0.99" }]`, simulator.DefaultSubnetID)}.String(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(res, tfjsonpathNew("network_interfaces").AtSliceIndex(0).AtMapKey("ipv4_address"), knownString("192.168.0.99")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(sameID(&id),
					resource.TestCheckResourceAttr(res, "image_id", simulator.DefaultImageID2),
					resource.TestCheckResourceAttr(res, "state", "running"),
					func(*terraform.State) error {
						if n := sim.RequestCount(simulator.OpModifyIP); n != 1 {
							return fmt.Errorf("the address was changed %d times; it was already done", n)
						}
						return nil
					}),
			},
		},
	})
}

func TestAccInstanceResource_updateTimeout(t *testing.T) {
	o := updateSimOptions()
	o.ReinstallDuration = time.Minute
	sim := startSimulator(t, o)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: providerConfig(sim) + instanceHCL{extra: "timeouts {\n    update = \"1s\"\n  }"}.String()},
			{
				Config: providerConfig(sim) + instanceHCL{image: simulator.DefaultImageID2, extra: "timeouts {\n    update = \"1s\"\n  }"}.String(),
				ExpectError: regexp.MustCompile(strings.ReplaceAll(`(?s)waiting for instance [0-9a-f-]+ to finish reinstalling its OS timed out.*`+
					`operation_state "reinstall-processing".*timeouts \{.*update = "60m"`, " ", `\s+`)),
			},
		},
	})
}

func TestAccInstanceResource_drift(t *testing.T) {
	sim := startSimulator(t, updateSimOptions())
	var id string
	drift := func(change func(*simulator.Instance)) func() {
		return func() {
			if err := sim.UpdateInstance(id, change); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := providerConfig(sim) + instanceHCL{extra: `metadata = { team = "a" }`,
		nics: fmt.Sprintf(`[{ subnet_id = %q, ipv4_address = "192.168.0.50" }]`, simulator.DefaultSubnetID)}.String()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureID(&id)},
			{
				// A configured address changed in the console is set back in place.
				PreConfig:        drift(func(in *simulator.Instance) { in.NetworkInterfaces[0].IPv4Address = "192.168.0.200" }),
				Config:           cfg,
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check:            resource.TestCheckResourceAttr(res, "network_interfaces.0.ipv4_address", "192.168.0.50"),
			},
			{
				PreConfig: drift(func(in *simulator.Instance) {
					in.Image = simulator.Image{ID: simulator.DefaultImageID2, Name: "CentOS 7.9 64bit", OSType: "Linux"}
				}),
				Config:           cfg,
				ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
				Check:            resource.TestCheckResourceAttr(res, "image_id", simulator.DefaultImageID),
			},
			{
				PreConfig:        drift(func(in *simulator.Instance) { in.State = "stopped" }),
				Config:           cfg,
				ConfigPlanChecks: expectAction(plancheck.ResourceActionNoop), // power_state is not configured: reported, not enforced
				Check:            resource.TestCheckResourceAttr(res, "power_state", "off"),
			},
			{
				PreConfig:        drift(func(in *simulator.Instance) { in.Metadata["team"] = "changed-in-console" }),
				Config:           cfg,
				ConfigPlanChecks: expectAction(plancheck.ResourceActionDestroyBeforeCreate),
				Check:            captureID(&id),
			},
			{
				PreConfig:        drift(func(in *simulator.Instance) { in.Description = "edited" }),
				Config:           cfg,
				ConfigPlanChecks: expectAction(plancheck.ResourceActionDestroyBeforeCreate),
				Check:            captureID(&id),
			},
			{
				PreConfig:        drift(func(in *simulator.Instance) { in.Name = "renamed-in-console" }),
				Config:           cfg,
				ConfigPlanChecks: expectAction(plancheck.ResourceActionDestroyBeforeCreate),
			},
		},
	})
}
