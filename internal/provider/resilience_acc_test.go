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

// A create whose answer is lost (5xx after the API acted, or a connection
// dropped mid-answer) adopts the instance it made; one refused before the
// API acted is sent again. Either way exactly one instance exists.
func TestAccResilience_createWithUnknownOutcome(t *testing.T) {
	skipOnExternal(t, "injects faults into the in-process simulator")
	tests := []struct {
		name        string
		fault       simulator.Fault
		wantCreates int
	}{
		{"5xx after the instance was made", simulator.Fault{Op: simulator.OpCreateInstance, Status: 503, After: true}, 1},
		{"connection dropped after the instance was made", simulator.Fault{Op: simulator.OpCreateInstance, Drop: true, After: true}, 1},
		{"5xx before anything was made", simulator.Fault{Op: simulator.OpCreateInstance, Status: 500}, 2},
		{"connection dropped before anything was made", simulator.Fault{Op: simulator.OpCreateInstance, Drop: true}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSimulator(t, fastSimOptions())
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				CheckDestroy:             checkAllTerminated(sim),
				Steps: []resource.TestStep{{
					PreConfig: func() { sim.InjectFault(tc.fault) },
					Config:    providerConfig(sim) + instanceConfig("acc-unknown-outcome"),
					Check: resource.ComposeAggregateTestCheckFunc(
						checkLive(sim, 1, 1),
						resource.TestCheckResourceAttr(res, "state", "running"),
						func(*terraform.State) error {
							if n := sim.RequestCount(simulator.OpCreateInstance); n != tc.wantCreates {
								return fmt.Errorf("%d create requests, want %d", n, tc.wantCreates)
							}
							return nil
						},
					),
				}},
			})
		})
	}
}

func TestAccResilience_rateLimited(t *testing.T) {
	skipOnExternal(t, "injects faults into the in-process simulator")
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain text %v", plain), func(t *testing.T) {
			sim := startSimulator(t, fastSimOptions())
			// The JSON variant sends Retry-After; the gateway-style plain-text one does not.
			retryAfter := time.Second
			if plain {
				retryAfter = 0
			}
			sim.SetRateLimit(simulator.RateLimit{PerSecond: 8, Burst: 2, RetryAfter: retryAfter, PlainText: plain})
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				CheckDestroy:             checkAllTerminated(sim),
				Steps: []resource.TestStep{{
					Config: providerConfig(sim) + strings.Replace(instanceConfig("acc-rate-${count.index}"),
						`resource "clouddc_instance" "test" {`, `resource "clouddc_instance" "test" {
  count    = 4`, 1),
					Check: resource.ComposeAggregateTestCheckFunc(
						checkLive(sim, 4, 4),
						func(*terraform.State) error {
							if sim.Stats().RateLimited == 0 {
								return fmt.Errorf("the rate limit never answered 429: the test proves nothing")
							}
							return nil
						},
					),
				}},
			})
		})
	}
}

func TestAccResilience_blipsWhilePolling(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	// Half the status and list calls fail: waits and reads must ride it out.
	sim.SetFailureRate(simulator.OpShowInstanceStatus, 0.5, 503, 7)
	sim.SetFailureRate(simulator.OpListInstances, 0.5, 502, 8)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{{
			Config: providerConfig(sim) + instanceConfig("acc-blips"),
			Check: resource.ComposeAggregateTestCheckFunc(checkLive(sim, 1, 1), func(*terraform.State) error {
				if sim.Stats().FaultsInjected == 0 {
					return fmt.Errorf("no fault was injected: the test proves nothing")
				}
				return nil
			}),
		}},
	})
}

func TestAccResilience_tokenExpiresMidRun(t *testing.T) {
	opts := fastSimOptions()
	opts.CreateDuration = 3 * time.Second
	sim := startSimulator(t, opts)
	const expiring, fresh = "token-valid-for-a-moment", "token-renewed"
	for _, tok := range []string{expiring, fresh} {
		if err := sim.AddToken(tok, sim.ProjectID(), simulator.TokenScope{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(EnvToken, expiring)
	config := fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
}
`, sim.URL, sim.ProjectID()) + instanceConfig("acc-expiring")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				// The token dies while the provider waits for the instance.
				PreConfig: func() { sim.ExpireToken(expiring, time.Second) },
				Config:    config,
				ExpectError: regexp.MustCompile(strings.ReplaceAll(`(?s)HTTP 401.*iMetal.0003.*token is invalid or has expired.*`+
					`Get a new token.*CLOUDDC_TOKEN`, " ", `\s+`)),
			},
			{
				// With a new token the next apply replaces the tainted instance:
				// it was saved to state before the wait, so nothing is orphaned.
				PreConfig:        func() { setenv(t, EnvToken, fresh) },
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroyBeforeCreate)}},
				Check:            checkLive(sim, 2, 1),
			},
		},
	})
}

func TestAccResilience_legacyStateNames(t *testing.T) {
	opts := updateSimOptions()
	opts.Legacy = true
	sim := startSimulator(t, opts)
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: providerConfig(sim) + instanceHCL{}.String(), Check: captureID(&id)},
			{
				// Reinstall (reported as "reinstalling") and power off
				// (reported as "stopping") in the 2025 names.
				Config: providerConfig(sim) + instanceHCL{image: simulator.DefaultImageID2, extra: `power_state = "off"`}.String(),
				Check: resource.ComposeAggregateTestCheckFunc(sameID(&id),
					resource.TestCheckResourceAttr(res, "state", "stopped"),
					resource.TestCheckResourceAttr(res, "image_id", simulator.DefaultImageID2)),
			},
			{
				// A failed deletion is reported as "failed"; the retry and the
				// misspelt "teminated" must both be understood.
				PreConfig:   func() { sim.FailNextDelete("iMetal.0099", "wipe failed") },
				Config:      providerConfig(sim),
				ExpectError: regexp.MustCompile(`(?s)delete_instance_error.*wipe failed`),
			},
			{Config: providerConfig(sim), Check: checkSimState(sim, &id, "terminated")},
		},
	})
}
