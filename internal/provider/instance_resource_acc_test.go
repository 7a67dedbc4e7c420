package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

const res = "clouddc_instance.test"

func TestAccInstanceResource_basic(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-basic",
					`metadata = { team = "platform", "cost:center" = "42" }`,
					`description = "acceptance test"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("state"), knownvalue.StringExact("running")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("operation_state"), knownvalue.StringExact("install-succeed")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("image_name"), knownvalue.StringExact("Ubuntu 22.04 server 64bit")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("os_type"), knownvalue.StringExact("Linux")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("server_id"), knownvalue.StringRegexp(regexp.MustCompile(`^a0000000-`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("network_interfaces").AtSliceIndex(0).AtMapKey("ipv4_address"),
						knownvalue.StringRegexp(regexp.MustCompile(`^192\.168\.0\.\d+$`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("metadata"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("platform"), "cost:center": knownvalue.StringExact("42"),
					})),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("description"), knownvalue.StringExact("acceptance test")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("created_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("launched_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(&id),
					checkSimState(sim, &id, "running"),
					// The password reached the API as configured.
					checkSimPassword(sim, testPassword),
				),
			},
			{
				ResourceName:            res,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"password", "timeouts"},
			},
		},
	})
}

func TestAccInstanceResource_importExisting(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	id := createOutOfBand(t, sim, "acc-imported", "Console-Passw0rd")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config:             providerConfig(sim) + instanceConfig("acc-imported"),
				ResourceName:       res,
				ImportState:        true,
				ImportStateId:      id,
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].ID != id || states[0].Attributes["state"] != "running" ||
						states[0].Attributes["network_interfaces.0.ipv4_address"] == "" {
						return fmt.Errorf("imported state is incomplete: %+v", states)
					}
					if _, ok := states[0].Attributes["password"]; ok && states[0].Attributes["password"] != "" {
						return fmt.Errorf("a password was imported, but the API never returns one")
					}
					return nil
				},
			},
			{
				// The password is not in the imported state: the configured
				// one is set in place, never by replacing the instance.
				Config: providerConfig(sim) + instanceConfig("acc-imported"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "id", id),
					checkSimPassword(sim, testPassword),
				),
			},
		},
	})
}

// An instance made by hand may hold all ten metadata pairs the API allows:
// the provider, which needs one for its create token only when it creates
// an instance, imports and manages it as it is, and refuses ten pairs only
// for a plan that would replace it.
func TestAccInstanceResource_importTenMetadataPairs(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	md := map[string]string{}
	var hcl []string
	for i := range clouddc.MaxMetadataPairs {
		k := fmt.Sprintf("k%d", i)
		md[k] = "v"
		hcl = append(hcl, fmt.Sprintf("%s = \"v\"", k))
	}
	c, err := clouddc.NewClient(clouddc.WithEndpoint(sim.URL), clouddc.WithProjectID(sim.ProjectID()),
		clouddc.WithToken(sim.Token()), clouddc.WithPollSchedule(testPollSchedule))
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateInstanceByHand(context.Background(), clouddc.CreateInstanceInput{Name: "acc-ten-pairs", ImageID: simulator.DefaultImageID,
		VPCID: simulator.DefaultVPCID, Password: "Console-Passw0rd", Metadata: md,
		NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: simulator.DefaultSubnetID}}})
	if err != nil {
		t.Fatal(err)
	}
	config := providerConfig(sim) + instanceConfig("acc-ten-pairs", "metadata = {"+strings.Join(hcl, ", ")+"}")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: config, ResourceName: res, ImportState: true, ImportStateId: id, ImportStatePersist: true},
			{
				// Only the password changes, in place.
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)}},
				Check:            resource.ComposeAggregateTestCheckFunc(resource.TestCheckResourceAttr(res, "id", id), resource.TestCheckResourceAttr(res, "metadata.%", "10")),
			},
			{
				// A rename would make a new instance with ten pairs: refused.
				Config:      strings.Replace(config, `"acc-ten-pairs"`, `"acc-ten-pairs-2"`, 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Too Many Metadata Pairs for a New Instance.*this plan replaces the instance`),
			},
		},
	})
}

func TestAccInstanceResource_importUnknownID(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:        providerConfig(sim) + instanceConfig("acc-import"),
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: "not-a-uuid",
				ExpectError:   regexp.MustCompile(`Invalid Import ID`),
			},
			{
				Config:        providerConfig(sim) + instanceConfig("acc-import"),
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: "0f0f0f0f-0000-4000-8000-000000000000",
				ExpectError:   regexp.MustCompile(`Cannot import non-existent remote object`),
			},
		},
	})
}

func TestAccInstanceResource_replaceOnNameChange(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	var first, second string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-name-a"),
				Check:  captureID(&first),
			},
			{
				Config: providerConfig(sim) + instanceConfig("acc-name-b"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(&second),
					resource.TestCheckResourceAttr(res, "name", "acc-name-b"),
					checkSimState(sim, &first, "terminated"),
					checkSimState(sim, &second, "running"),
					func(*terraform.State) error {
						if first == second {
							return fmt.Errorf("the instance was not replaced: ID %s in both steps", first)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccInstanceResource_removedFromConfig(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-removed"),
				Check:  captureID(&id),
			},
			{
				// The apply returns only once the instance is terminated, so
				// the simulator shows it terminated right after the apply.
				Config: providerConfig(sim),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroy)},
				},
				Check: checkSimState(sim, &id, "terminated"),
			},
		},
	})
}

func TestAccInstanceResource_disappears(t *testing.T) {
	skipOnExternal(t, "injects faults into the in-process simulator")
	for _, tc := range []struct {
		name   string
		vanish func(sim *simulator.TestServer, id string) error
	}{
		{"removed", func(sim *simulator.TestServer, id string) error { return sim.RemoveInstance(id) }},
		{"terminated", func(sim *simulator.TestServer, id string) error {
			if err := sim.DeleteInstance(id); err != nil {
				return err
			}
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if in, _ := sim.Instance(id); in.State == "terminated" {
					return nil
				}
				time.Sleep(20 * time.Millisecond)
			}
			return fmt.Errorf("instance %s did not terminate", id)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSimulator(t, fastSimOptions())
			var first, second string
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				CheckDestroy:             checkAllTerminated(sim),
				Steps: []resource.TestStep{
					{
						Config: providerConfig(sim) + instanceConfig("acc-gone"),
						Check:  captureID(&first),
					},
					{
						PreConfig: func() {
							if err := tc.vanish(sim, first); err != nil {
								t.Fatal(err)
							}
						},
						Config: providerConfig(sim) + instanceConfig("acc-gone"),
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
						},
						Check: resource.ComposeAggregateTestCheckFunc(
							captureID(&second),
							checkSimState(sim, &second, "running"),
						),
					},
				},
			})
			if first == second {
				t.Fatalf("the instance was not created again: ID %s in both steps", first)
			}
		})
	}
}

func TestAccInstanceResource_createFails(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	var replacement string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { sim.FailNextCreate("iMetal.0099", "BMC of the server did not answer") },
				Config:    providerConfig(sim) + instanceConfig("acc-create-fails"),
				ExpectError: regexp.MustCompile(`(?s)Instance Did Not Become Running.*error_type: create_instance_error.*` +
					`error_code: iMetal.0099.*BMC of the server did not answer.*tainted`),
			},
			{
				// The failed instance was kept in state as tainted, so this
				// apply replaces it: nothing is orphaned.
				Config: providerConfig(sim) + instanceConfig("acc-create-fails"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(&replacement),
					checkSimState(sim, &replacement, "running"),
					// The failed instance and its replacement: only the
					// replacement is left alive.
					checkLive(sim, 2, 1),
				),
			},
		},
	})
}

func TestAccInstanceResource_createTimeout(t *testing.T) {
	opts := fastSimOptions()
	opts.CreateDuration = time.Minute
	sim := startSimulator(t, opts)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-timeout", `timeouts {
    create = "1s"
  }`),
				ExpectError: regexp.MustCompile(`(?s)waiting for instance [0-9a-f-]+ to become running\s+timed out.*` +
					`last seen in state "pending".*install-processing.*tainted.*terraform untaint.*replaces it.*timeouts \{.*create = `),
			},
		},
	})
}

func TestAccInstanceResource_deleteFails(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-delete-fails"),
				Check:  captureID(&id),
			},
			{
				PreConfig:   func() { sim.FailNextDelete("iMetal.0099", "disk wipe failed") },
				Config:      providerConfig(sim),
				ExpectError: regexp.MustCompile(`(?s)Instance Was Not Deleted.*error_type: delete_instance_error.*disk wipe failed`),
			},
			{
				// The instance stayed in state, so the next apply retries.
				Config: providerConfig(sim),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroy)},
				},
				Check: checkSimState(sim, &id, "terminated"),
			},
		},
	})
}

func TestAccInstanceResource_deleteWhileShuttingDown(t *testing.T) {
	opts := fastSimOptions()
	opts.DeleteDuration = 4 * time.Second
	sim := startSimulator(t, opts)
	var id string
	var started time.Time
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-shutting-down"),
				Check:  captureID(&id),
			},
			{
				// Someone else started the deletion: destroy waits for it
				// and does not start it again (the API leaves a deletion
				// under way as it is when asked again).
				PreConfig: func() {
					started = time.Now()
					if err := sim.DeleteInstance(id); err != nil {
						t.Fatal(err)
					}
				},
				Config: providerConfig(sim),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSimState(sim, &id, "terminated"),
					func(*terraform.State) error {
						tl, _ := sim.Timeline(id)
						shutdowns := 0
						for _, ch := range tl.History {
							if ch.State == "shutting-down" {
								shutdowns++
							}
						}
						at, _ := tl.EnteredAt("terminated")
						if shutdowns != 1 || at.Sub(started) > 4500*time.Millisecond {
							return fmt.Errorf("%d shutdowns, terminated %v after the first one started; want one deletion, not restarted", shutdowns, at.Sub(started))
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccInstanceResource_apiErrors(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + instanceConfig("acc-no-server", `server_id = "a0000000-0000-4000-8000-999999999999"`),
				ExpectError: regexp.MustCompile(`(?s)Unable to Create Instance.*HTTP 404.*error_code: iMetal.0100.*` +
					`Physical server not found.*request ID: [0-9a-f]+.*Check server_id`),
			},
			{
				Config: fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = "ffffffffffffffffffffffffffffffff"
  token      = %q
}
`, sim.URL, sim.Token()) + instanceConfig("acc-wrong-project"),
				ExpectError: regexp.MustCompile(`(?s)HTTP 403.*iMetal.0004.*clouddc:instance:\*`),
			},
			{
				Config: fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
  token      = "expired-token"
}
`, sim.URL, sim.ProjectID()) + instanceConfig("acc-bad-token"),
				ExpectError: regexp.MustCompile(`(?s)HTTP 401.*iMetal.0003.*token is invalid or has expired`),
			},
		},
	})
}
