package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// startHookedSim serves a simulator through a handler that calls hook
// before each API request reaches it, so that a test can inject a fault at
// the moment a given request arrives (a fault queued earlier would be used
// up by the calls before it, such as a refresh).
func startHookedSim(t *testing.T, opts simulator.Options, hook func(*simulator.Simulator, *http.Request)) *simulator.TestServer {
	t.Helper()
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook(sim, r)
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		if err := sim.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	})
	return &simulator.TestServer{Simulator: sim, URL: srv.URL}
}

// Scenario 4: ListInstances answers 200 with a document that is not a
// listing ({} or {"instances": null}) during the create wait, a refresh and
// the delete wait. None of them may conclude that the instance is gone: the
// apply succeeds, the refresh keeps the instance in state, and the destroy
// waits until the instance is really terminated.
func TestAccUncertain_emptyListingIsNotGone(t *testing.T) {
	var deleting atomic.Bool
	sim := startHookedSim(t, fastSimOptions(), func(sim *simulator.Simulator, r *http.Request) {
		if r.Method == http.MethodDelete && deleting.CompareAndSwap(false, true) {
			// The deletion is held in shutting-down for a while, and the
			// delete wait's first polls get documents that list nothing.
			sim.HoldDeletes(true)
			sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{}`, Count: 2})
			sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{"instances":null}`, Count: 1})
			time.AfterFunc(2*time.Second, func() { sim.HoldDeletes(false) })
		}
	})
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				// The create wait.
				PreConfig: func() {
					sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{}`, Count: 2})
					sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{"instances":null}`, Count: 1})
				},
				Config: providerConfig(sim) + instanceConfig("acc-empty-listing"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "state", "running"),
					checkLive(sim, 1, 1), checkFaultsUsed(sim, 3), captureID(&id)),
			},
			{
				// A refresh: the instance stays in state, so the plan is empty.
				PreConfig: func() { sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{}`, Count: 2}) },
				Config:    providerConfig(sim) + instanceConfig("acc-empty-listing"),
				PlanOnly:  true,
			},
			{
				// The delete wait (the resource leaves the configuration):
				// when the apply returns, the instance is terminated.
				Config: providerConfig(sim),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFaultsUsed(sim, 8),
					func(*terraform.State) error {
						if !deleting.Load() {
							return fmt.Errorf("no DELETE reached the simulator")
						}
						return checkSimState(sim, &id, "terminated")(nil)
					}),
			},
		},
	})
}

// Scenario 6: the endpoint answers the create with a 307 to another host.
// The provider must not follow it: the apply fails with an error that
// names the host and says the API does not redirect, and the other host
// receives nothing (no token, no signature, no security token, no
// password). Then a refresh is redirected (a 302 on ListInstances): it
// fails the same way and sends nothing either.
func TestAccUncertain_redirectIsNotFollowed(t *testing.T) {
	auths := map[string]func(*simulator.TestServer) string{
		"token": providerConfig,
		"temporary access key": func(sim *simulator.TestServer) string {
			return fmt.Sprintf(`
provider "clouddc" {
  endpoint       = %q
  project_id     = %q
  access_key     = %q
  secret_key     = %q
  security_token = %q
}
`, sim.URL, sim.ProjectID(), accTemporaryAK, accTemporarySK, accSecToken)
		},
	}
	for name, provider := range auths {
		t.Run(name, func(t *testing.T) {
			sim := startSimulator(t, akskSimOptions())
			sink, err := sim.RedirectSink()
			if err != nil {
				t.Fatal(err)
			}
			host := strings.TrimPrefix(sink.URL(), "http://")
			wantErr := regexp.MustCompile(`(?s)HTTP\s+30[27].*` + regexp.QuoteMeta(host) + `.*CloudDC\s+API\s+does\s+not\s+redirect.*not\s+followed`)
			config := provider(sim) + instanceConfig("acc-redirect")
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				CheckDestroy:             checkAllTerminated(sim),
				Steps: []resource.TestStep{
					{
						PreConfig: func() {
							sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, RedirectTo: simulator.SinkTarget, Status: http.StatusTemporaryRedirect})
						},
						Config:      config,
						ExpectError: wantErr,
					},
					{
						Config: config,
						Check: func(*terraform.State) error {
							if n := len(sim.Instances()); n != 1 {
								return fmt.Errorf("%d instances exist; want the one of this apply only", n)
							}
							return nil
						},
					},
					{
						PreConfig: func() {
							sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, RedirectTo: simulator.SinkTarget, Status: http.StatusFound})
						},
						Config:      config,
						PlanOnly:    true,
						ExpectError: wantErr,
					},
				},
			})
			for _, r := range sink.Requests() {
				t.Errorf("the redirect's target received %s %s with %d credential headers and a body of %d bytes", r.Method, r.URI, len(r.Credentials()), len(r.Body))
			}
		})
	}
}

// Scenario 5: during a refresh of several instances the provider lists the
// whole project, and that listing loses items (fewer than count, and no
// next_marker). No instance may be dropped from state.
func TestAccUncertain_lossyPageKeepsState(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	config := providerConfig(sim) + strings.Replace(instanceConfig("acc-lossy-${count.index}"),
		`resource "clouddc_instance" "test" {`, `resource "clouddc_instance" "test" {
  count    = 6`, 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{Config: config, Check: checkLive(sim, 6, 6)},
			{
				PreConfig: func() { sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, LoseItems: 2, Count: 3}) },
				Config:    config,
				PlanOnly:  true,
			},
			{Config: config, Check: resource.ComposeAggregateTestCheckFunc(checkLive(sim, 6, 6), checkFaultsUsed(sim, 3))},
		},
	})
}

// Scenario 4 for the data sources: a document that lists nothing is not
// "no such instance". Both lookups (by ID and by name) read through it.
func TestAccUncertain_dataSourcesReadThroughEmptyListings(t *testing.T) {
	opts := fastSimOptions()
	opts.CreateDuration = time.Hour
	sim := startSimulator(t, opts)
	ids := seedInstances(t, sim, "ds-uncertain")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			PreConfig: func() {
				sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{}`, Count: 2})
				sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{"instances":null}`, Count: 2})
			},
			Config: providerConfig(sim) + fmt.Sprintf(`
data "clouddc_instance" "by_id" {
  id = %q
}
data "clouddc_instance" "by_name" {
  name = "ds-uncertain"
}
`, ids[0]),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.clouddc_instance.by_id", "name", "ds-uncertain"),
				resource.TestCheckResourceAttr("data.clouddc_instance.by_name", "id", ids[0]),
				checkFaultsUsed(sim, 4)),
		}},
	})
}
