package provider

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// TestAccInstanceResource_onTarget is the round trip a maintainer runs on a
// real account before a release: create, refresh, import, change in place,
// destroy, with nothing left behind. It runs on the in-process simulator
// too.
func TestAccInstanceResource_onTarget(t *testing.T) {
	a := newAccTarget(t)
	name := a.name("round-trip")
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories(),
		CheckDestroy:             a.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: a.providerConfig() + a.instanceConfig(name, `metadata = { purpose = "acceptance test" }`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "name", name),
					resource.TestCheckResourceAttr(res, "state", "running"),
					resource.TestCheckResourceAttr(res, "image_id", a.imageID),
					resource.TestCheckResourceAttr(res, "network_interfaces.0.subnet_id", a.subnetID),
					resource.TestCheckResourceAttrSet(res, "network_interfaces.0.ipv4_address"),
					resource.TestCheckResourceAttrSet(res, "server_id"),
					resource.TestCheckResourceAttr(res, "deletion_protection", "false"),
					captureID(&id),
					a.checkRunning(&id),
				),
			},
			{
				ResourceName:            res,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"password", "timeouts"},
			},
			{
				// The password, changed in place: the same instance.
				Config: a.providerConfig() + strings.Replace(a.instanceConfig(name, `metadata = { purpose = "acceptance test" }`),
					testPassword, testPassword+"2", 1),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrPtr(res, "id", &id),
					a.checkRunning(&id),
				),
			},
		},
	})
}

// TestAccSweeper_leavesOthersAlone: the sweeper deletes the instances named
// with the test prefix, as a failed run would leave them (one running, one
// still installing), and leaves alone instances whose names do not begin
// with it, including one that only contains it. It runs on an external endpoint too; there it must not run
// beside another acceptance run in the same project, whose instances it
// would sweep.
func TestAccSweeper_leavesOthersAlone(t *testing.T) {
	if os.Getenv(resource.EnvTfAcc) == "" {
		t.Skipf("an acceptance test: set %s=1", resource.EnvTfAcc)
	}
	a := newAccTarget(t)
	servers := a.serverIDs
	if n := len(servers); n > 0 && n < 4 {
		t.Skipf("needs four instances at once, so no server, or four, in %s", EnvAccServerIDs)
	}
	c, err := a.client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	// Swept: the first two. Kept: the others.
	names := []string{a.name("leftover"), a.name("leftover-installing"), "keep-" + acctest.RandString(6), "keep-" + accNamePrefix + acctest.RandString(6)}
	const swept = 2
	ids := make([]string, len(names))
	create := func(i int) {
		in := clouddc.CreateInstanceInput{Name: names[i], ImageID: a.imageID, VPCID: a.vpcID, Password: testPassword,
			NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: a.subnetID}}}
		if len(servers) > i {
			in.Placement = &clouddc.Placement{ServerID: servers[i]}
		}
		id, err := c.CreateInstanceByHand(ctx, in)
		if err != nil {
			t.Fatalf("creating %s: %v", names[i], err)
		}
		ids[i] = id
		// Whatever happens, leave nothing behind.
		t.Cleanup(func() {
			if _, err := c.TerminateInstance(context.Background(), id); err != nil {
				t.Errorf("cleaning up %s (%s): %v", id, names[i], err)
			}
		})
	}
	for _, i := range []int{0, 2, 3} {
		create(i)
	}
	for _, i := range []int{0, 2, 3} {
		if _, err := c.WaitForInstanceRunning(ctx, ids[i]); err != nil {
			t.Fatalf("%s (%s): %v", ids[i], names[i], err)
		}
	}
	create(1) // and sweep while it installs

	deleted, err := sweepInstances(ctx, c, t.Logf)
	if err != nil {
		t.Fatalf("sweeping: %v", err)
	}
	for i := range swept {
		if !slices.Contains(deleted, ids[i]) {
			t.Errorf("the sweeper did not delete %s (%s); it deleted %v", ids[i], names[i], deleted)
		}
		if in, err := c.GetInstance(ctx, ids[i]); err == nil && in.State != clouddc.StateTerminated {
			t.Errorf("%s (%s) is %s after the sweep", ids[i], names[i], in.State)
		} else if err != nil && !errors.Is(err, clouddc.ErrNotFound) {
			t.Error(err)
		}
	}
	for i := swept; i < len(ids); i++ {
		if slices.Contains(deleted, ids[i]) {
			t.Errorf("the sweeper deleted %s (%s), whose name does not begin with %s", ids[i], names[i], accNamePrefix)
		}
		st, err := c.ShowInstanceStatus(ctx, ids[i])
		if err != nil || st.State != clouddc.StateRunning {
			t.Errorf("%s (%s) after the sweep: %+v, %v; want running", ids[i], names[i], st, err)
		}
	}
}
