package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Four instances with one name in one apply, two creates refused with a
// 503 before the API acted, and someone else's instance with that name
// made a moment before: each resource gets its own new instance, the
// other one is never adopted, and destroy leaves only it.
func TestAccCreateCertainty_sameNameOneApply(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	var foreign string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkOnlyLeft(sim, &foreign),
		Steps: []resource.TestStep{{
			PreConfig: func() {
				foreign = createOutOfBand(t, sim, "acc-shared", "Console-Passw0rd")
				sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, Status: 503, Count: 2})
			},
			Config: providerConfig(sim) + fleetConfig("acc-shared", 4),
			Check: resource.ComposeAggregateTestCheckFunc(
				func(s *terraform.State) error { return checkOnePerResource(sim, 4, foreign)(s) },
				func(*terraform.State) error {
					// 1 by hand, 4 first attempts, 2 resends.
					if n := sim.RequestCount(simulator.OpCreateInstance); n != 7 {
						return fmt.Errorf("%d create requests, want 7: the two refused creates are sent again", n)
					}
					return nil
				},
			),
		}},
	})
}

// Creates answered 504 at once whose instances the API makes a second
// later: each resource adopts its own late instance, nothing is sent
// again, and destroy leaves nothing.
func TestAccCreateCertainty_lateCreate(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{{
			PreConfig: func() {
				sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, Status: 504, Late: time.Second, Count: 2})
			},
			Config: providerConfig(sim) + fleetConfig("acc-late", 4),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkOnePerResource(sim, 4),
				func(*terraform.State) error {
					if n := sim.RequestCount(simulator.OpCreateInstance); n != 4 {
						return fmt.Errorf("%d create requests, want 4: a create that lands late must not be sent again", n)
					}
					return nil
				},
			),
		}},
	})
}

// An undecodable 2xx while no listing can be read: the API made the
// instance, but the provider cannot find it yet. It sends nothing again
// and keeps a provisional object in the state (tainted), which the next
// refresh settles by the create token: it adopts the instance, never makes
// a second. The apply after it replaces the tainted instance.
func TestAccCreateCertainty_uncertainCreateIsSettledByTheNextRefresh(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	empty := ""
	var id, replaced string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, After: true, Status: 200, RawBody: &empty})
					sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Status: 503, Count: 1000})
				},
				// One retry per listing, so that the failing listings end soon.
				Config: strings.Replace(providerConfig(sim), "token ", "max_retries = 1\n  token ", 1) + instanceConfig("acc-uncertain"),
				ExpectError: regexp.MustCompile(strings.ReplaceAll(`(?s)Unable to Create Instance.*accepted it \(HTTP 2xx\) without a usable instance ID.*`+
					`create-token = [0-9a-f]{32}.*provisional object.*tainted.*Nothing creates a second instance`, " ", `\s+`)),
			},
			{
				PreConfig: func() {
					sim.ClearFaults()
					all := sim.Instances()
					if len(all) != 1 || sim.RequestCount(simulator.OpCreateInstance) != 1 {
						t.Fatalf("%d instances after %d creates; want the one create, not sent again", len(all), sim.RequestCount(simulator.OpCreateInstance))
					}
					if all[0].Metadata["terraform-provider-clouddc:create-token"] == "" {
						t.Fatalf("the instance carries no create token: %v", all[0].Metadata)
					}
					id = all[0].ID
				},
				// The refresh finds the instance by its token; it is tainted,
				// so the plan after the refresh replaces it.
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check:              resource.ComposeAggregateTestCheckFunc(resource.TestCheckResourceAttrPtr(res, "id", &id), checkLive(sim, 1, 1)),
			},
			{
				// It is tainted: the apply replaces it, and exactly one
				// instance is left.
				Config: providerConfig(sim) + instanceConfig("acc-uncertain"),
				Check: resource.ComposeAggregateTestCheckFunc(captureID(&replaced), checkLive(sim, 2, 1), func(*terraform.State) error {
					if replaced == id {
						return fmt.Errorf("instance %s was kept; a tainted instance is replaced", id)
					}
					return nil
				}),
			},
		},
	})
}

// A create whose answer comes after its timeout: the API made the
// instance, and the provider finds it on a fresh context, so that it is
// kept in the state (tainted) rather than orphaned. The next apply
// replaces it, and destroy leaves nothing.
func TestAccCreateCertainty_createTimeoutAfterTheRequestWasSent(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	var first string
	config := providerConfig(sim) + instanceConfig("acc-interrupted", `timeouts { create = "2s" }`)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, After: true, Status: 200, Hold: time.Minute})
				},
				Config:      config,
				ExpectError: regexp.MustCompile(`Instance Did Not Become Running`),
			},
			{
				// The first instance was in the state, tainted: it is
				// replaced, not orphaned.
				PreConfig: func() {
					all := sim.Instances()
					if len(all) != 1 {
						t.Fatalf("%d instances after the interrupted create, want 1", len(all))
					}
					first = all[0].ID
				},
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkLive(sim, 2, 1),
					checkSimState(sim, &first, "terminated"),
				),
			},
		},
	})
}

// A create whose wait fails (its timeout) and whose request the gateway
// replays after the apply: Terraform marks the instance tainted and the
// next apply replaces it, and Terraform does not pass a tainted object's
// private state, where the create's token is recorded, to that
// replacement's delete. So the refresh before it settles the record
// itself: it waits out the create's window, finds the replayed instance
// and deletes it. Without that, the replay lands during or after the
// replacement and is left running, carrying a token nothing in the state
// remembers: two live instances.
func TestAccCreateCertainty_replayOfAFailedCreateIsDeletedBeforeItsReplacement(t *testing.T) {
	opts := fastSimOptions()
	opts.CreateDuration = 3 * time.Second
	sim := startSimulator(t, opts)
	lookup := testCreateLookup
	lookup.Window = 14 * time.Second
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactoriesWith(lookup),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					// The replay lands 10 s after the create: after this apply
					// has failed (its create timeout is 1 s), after the next
					// apply's replacement (a 3 s install) unless its refresh
					// waits, and within the create's window (14 s here, a
					// minute in production).
					sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, Replay: 10 * time.Second})
				},
				Config:      providerConfig(sim) + instanceConfig("acc-replayed", `timeouts { create = "1s" }`),
				ExpectError: regexp.MustCompile(`Instance Did Not Become Running`),
			},
			{
				// The refresh waits for the window and deletes the replayed
				// instance; then the apply replaces the tainted one: three
				// instances in all, and only the one in the state is live.
				Config: providerConfig(sim) + instanceConfig("acc-replayed"),
				Check: resource.ComposeAggregateTestCheckFunc(checkLive(sim, 3, 1), func(s *terraform.State) error {
					id := s.RootModule().Resources[res].Primary.ID
					for _, inst := range liveInstances(sim) {
						if inst.ID != id {
							return fmt.Errorf("instance %s runs, but the state holds %s", inst.ID, id)
						}
					}
					return nil
				}),
			},
		},
	})
}
