package provider

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Helpers that the acceptance tests of several files share: checks of what
// the simulator holds, and the instances the tests make outside Terraform.
// (provider_acc_test.go has the factories, the simulator settings and the
// configuration builders; terraform114_acc_test.go the CLI version checks
// and the tests that drive the CLI by hand.)

// updateSimOptions are fastSimOptions with reinstalls, IP changes and
// power changes that take a moment, and a second VPC to move to.
func updateSimOptions() simulator.Options {
	o := fastSimOptions()
	o.ReinstallDuration = 300 * time.Millisecond
	o.ModifyIPDuration = 300 * time.Millisecond
	o.PowerDuration = 300 * time.Millisecond
	o.Subnets = append(simulator.DefaultSubnets(),
		simulator.SubnetSpec{ID: otherSubnetID, VPCID: otherVPCID, CIDR: netip.MustParsePrefix("10.20.0.0/24")})
	return o
}

// Checks of the plan and of the simulator.

// expectAction is a plan check that the resource's planned action is a.
func expectAction(a plancheck.ResourceActionType) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, a)}}
}

// sameID checks that the instance in state is still the one first created.
func sameID(id *string) resource.TestCheckFunc {
	return resource.TestCheckResourceAttrPtr(res, "id", id)
}

func checkInstance(sim *simulator.TestServer, id string, check func(simulator.Instance) error) resource.TestCheckFunc {
	return func(*terraform.State) error {
		in, ok := sim.Instance(id)
		if !ok {
			return fmt.Errorf("instance %s is unknown to the simulator", id)
		}
		return check(in)
	}
}

func wantState(want string) func(simulator.Instance) error {
	return func(in simulator.Instance) error {
		if in.State != want {
			return fmt.Errorf("instance %s is %s, want %s", in.ID, in.State, want)
		}
		return nil
	}
}

// fleetConfig is count instances of clouddc_instance.test, all named name.
func fleetConfig(name string, count int) string {
	return instanceHCL{name: name, count: count}.String()
}

// checkOnePerResource asserts that the state holds want distinct instance
// IDs, none of them in foreign, and that the simulator's live instances
// are exactly those plus foreign.
func checkOnePerResource(sim *simulator.TestServer, want int, foreign ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ids := map[string]bool{}
		for addr, rs := range s.RootModule().Resources {
			if rs.Type != "clouddc_instance" {
				continue
			}
			if ids[rs.Primary.ID] {
				return fmt.Errorf("instance %s is in the state twice (again as %s)", rs.Primary.ID, addr)
			}
			ids[rs.Primary.ID] = true
		}
		if len(ids) != want {
			return fmt.Errorf("the state holds %d distinct instances, want %d", len(ids), want)
		}
		others := map[string]bool{}
		for _, id := range foreign {
			if ids[id] {
				return fmt.Errorf("the state adopted %s, an instance made outside Terraform", id)
			}
			others[id] = true
		}
		for _, in := range liveInstances(sim) {
			if !ids[in.ID] && !others[in.ID] {
				return fmt.Errorf("instance %s (%s, %s) exists but is in no resource: a duplicate or an orphan", in.ID, in.Name, in.State)
			}
		}
		if live := len(liveInstances(sim)); live != want+len(foreign) {
			return fmt.Errorf("%d live instances, want %d", live, want+len(foreign))
		}
		return nil
	}
}

// checkOnlyLeft is a CheckDestroy: nothing but the given instances lives.
func checkOnlyLeft(sim *simulator.TestServer, keep *string) func(*terraform.State) error {
	return func(*terraform.State) error {
		for _, in := range liveInstances(sim) {
			if in.ID != *keep {
				return fmt.Errorf("instance %s (%s) is %s after destroy", in.ID, in.Name, in.State)
			}
		}
		return nil
	}
}

// checkNoLiveLeft fails when the simulator holds a live instance carrying
// a create token (made by the provider) after a destroy.
func checkNoLiveLeft(sim *simulator.TestServer) func(*terraform.State) error {
	return func(*terraform.State) error {
		for _, in := range liveInstances(sim) {
			if in.Metadata["terraform-provider-clouddc:create-token"] != "" {
				return fmt.Errorf("instance %s (%s) made by the provider is %s after the destroy", in.ID, in.Name, in.State)
			}
		}
		return nil
	}
}

// checkFaultsUsed fails when fewer than want faults were injected, so that
// a test whose faults never reached the provider does not pass unnoticed.
func checkFaultsUsed(sim *simulator.TestServer, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := sim.Stats().FaultsInjected; got < want {
			return fmt.Errorf("%d faults were injected, want at least %d: the test proves nothing", got, want)
		}
		return nil
	}
}

// checkInstancePtr is checkInstance for an ID a step captures as it runs.
func checkInstancePtr(sim *simulator.TestServer, id *string, check func(simulator.Instance) error) resource.TestCheckFunc {
	return func(st *terraform.State) error { return checkInstance(sim, *id, check)(st) }
}

// Instances made outside Terraform, as a person at the console would.

// createOutOfBand makes an instance through the API, as someone outside
// Terraform would, and waits until it runs.
func createOutOfBand(t *testing.T, sim *simulator.TestServer, name, password string) string {
	t.Helper()
	c, err := clouddc.NewClient(clouddc.WithEndpoint(sim.URL), clouddc.WithProjectID(sim.ProjectID()),
		clouddc.WithToken(sim.Token()), clouddc.WithPollSchedule(testPollSchedule))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := c.CreateInstanceByHand(ctx, clouddc.CreateInstanceInput{
		Name: name, ImageID: simulator.DefaultImageID, VPCID: simulator.DefaultVPCID, Password: password,
		NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitForInstanceRunning(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// powerOffOutOfBand stops an instance through the API, as an operator in
// the console would.
func powerOffOutOfBand(t *testing.T, sim *simulator.TestServer, id string) {
	t.Helper()
	c := simClient(t, sim)
	ctx := context.Background()
	inst, err := c.GetInstance(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ChangeServerPowerState(ctx, clouddc.ActionPowerOff, inst.ServerID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitForPowerState(ctx, id, clouddc.StateStopped); err != nil {
		t.Fatal(err)
	}
}

// simClient is an API client of the simulator, for a test's own set-up
// and checks, polling as the provider does in tests.
func simClient(t *testing.T, sim *simulator.TestServer) *clouddc.Client {
	t.Helper()
	c, err := clouddc.NewClient(clouddc.WithEndpoint(sim.URL), clouddc.WithProjectID(sim.ProjectID()),
		clouddc.WithToken(sim.Token()), clouddc.WithPollSchedule(testPollSchedule))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createByTerraform makes an instance the way the provider's create does,
// with a create token: an instance that some Terraform state holds.
func createByTerraform(t *testing.T, sim *simulator.TestServer, name string) string {
	t.Helper()
	c := simClient(t, sim)
	ctx := context.Background()
	made, err := c.CreateInstance(ctx, clouddc.CreateInstanceInput{
		Name: name, ImageID: simulator.DefaultImageID, VPCID: simulator.DefaultVPCID, Password: "Terraform-Passw0rd",
		NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitForInstanceRunning(ctx, made.ID); err != nil {
		t.Fatal(err)
	}
	return made.ID
}

// waitTerminated waits until the simulator reports an instance terminated.
func waitTerminated(t *testing.T, sim *simulator.TestServer, id string) {
	t.Helper()
	c := simClient(t, sim)
	if _, err := c.WaitForInstanceTerminated(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}
