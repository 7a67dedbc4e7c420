package provider

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// seedInstances creates instances through the API, outside Terraform, with
// the given names, and returns their IDs in order. They are left pending:
// the data sources read them whatever their state.
func seedInstances(t *testing.T, sim *simulator.TestServer, names ...string) []string {
	t.Helper()
	c, err := clouddc.NewClient(clouddc.WithEndpoint(sim.URL), clouddc.WithProjectID(sim.ProjectID()), clouddc.WithToken(sim.Token()))
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(names))
	create := func(i int) error {
		id, err := c.CreateInstanceByHand(context.Background(), clouddc.CreateInstanceInput{
			Name: names[i], ImageID: simulator.DefaultImageID, VPCID: simulator.DefaultVPCID, Password: "Seed-Passw0rd",
			NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
		})
		ids[i] = id
		return err
	}
	if len(names) <= 20 {
		// A few are created one by one, so that tests can rely on the order.
		for i := range names {
			if err := create(i); err != nil {
				t.Fatal(err)
			}
		}
		return ids
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	sem := make(chan struct{}, 16)
	for i := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- create(i)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestAccInstanceDataSource(t *testing.T) {
	opts := fastSimOptions()
	opts.CreateDuration = time.Hour // stay pending: the data source reads any state
	sim := startSimulator(t, opts)
	ids := seedInstances(t, sim, "ds-unique", "ds-twin", "ds-twin")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + fmt.Sprintf(`
data "clouddc_instance" "by_id" {
  id = %q
}
data "clouddc_instance" "by_name" {
  name = "ds-unique"
}
`, ids[1]),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.clouddc_instance.by_id", tfjsonpath.New("name"), knownvalue.StringExact("ds-twin")),
					statecheck.ExpectKnownValue("data.clouddc_instance.by_id", tfjsonpath.New("state"), knownvalue.StringExact("pending")),
					statecheck.ExpectKnownValue("data.clouddc_instance.by_id", tfjsonpath.New("image_name"), knownvalue.StringExact("Ubuntu 22.04 server 64bit")),
					statecheck.ExpectKnownValue("data.clouddc_instance.by_id", tfjsonpath.New("network_interfaces").AtSliceIndex(0).AtMapKey("ipv4_address"),
						knownvalue.StringRegexp(regexp.MustCompile(`^192\.168\.0\.`))),
					statecheck.ExpectKnownValue("data.clouddc_instance.by_name", tfjsonpath.New("id"), knownvalue.StringExact(ids[0])),
					statecheck.ExpectKnownValue("data.clouddc_instance.by_name", tfjsonpath.New("server_id"), knownvalue.StringRegexp(regexp.MustCompile(`^a0000000-`))),
				},
			},
			{
				Config:      providerConfig(sim) + `data "clouddc_instance" "x" { name = "ds-twin" }`,
				ExpectError: regexp.MustCompile(`(?s)Several Instances Have This Name.*2 instances are named "ds-twin"`),
			},
			{
				Config:      providerConfig(sim) + `data "clouddc_instance" "x" { name = "ds-nobody" }`,
				ExpectError: regexp.MustCompile(`(?s)Instance Not Found.*No instance in this project is named "ds-nobody"`),
			},
			{
				Config:      providerConfig(sim) + `data "clouddc_instance" "x" { id = "0f0f0f0f-0000-4000-8000-000000000000" }`,
				ExpectError: regexp.MustCompile(`(?s)Instance Not Found.*0f0f0f0f-0000-4000-8000-000000000000`),
			},
			{
				Config:      providerConfig(sim) + `data "clouddc_instance" "x" {}`,
				ExpectError: regexp.MustCompile(`(?s)Exactly one of these attributes must be configured: \[id,name\]`),
			},
			{
				Config: providerConfig(sim) + fmt.Sprintf(`data "clouddc_instance" "x" {
  id   = %q
  name = "ds-unique"
}`, ids[0]),
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination`),
			},
			{
				// A valid last step, so that the test's final destroy runs.
				Config: providerConfig(sim) + `data "clouddc_instance" "x" { name = "ds-unique" }`,
			},
		},
	})
}

func TestAccInstancesDataSource_filters(t *testing.T) {
	opts := fastSimOptions()
	opts.CreateDuration = time.Hour
	sim := startSimulator(t, opts)
	ids := seedInstances(t, sim, "web-1", "web-2", "db-1", "db-2", "web-gone", "web-leaving")
	// One of them runs, so that the state filter has something to tell
	// apart; the last two are deleted and being deleted, which only a
	// state filter that names their state lists.
	for i, st := range map[int]string{3: "running", 4: "terminated", 5: "shutting-down"} {
		if err := sim.UpdateInstance(ids[i], func(in *simulator.Instance) { in.State = st }); err != nil {
			t.Fatal(err)
		}
	}
	web2, _ := sim.Instance(ids[1])
	db2, _ := sim.Instance(ids[3])
	count := func(n int) knownvalue.Check { return knownvalue.ListSizeExact(n) }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config: providerConfig(sim) + fmt.Sprintf(`
data "clouddc_instances" "all" {}
data "clouddc_instances" "web" {
  name_regex = "^web-"
}
data "clouddc_instances" "running" {
  state = "running"
}
data "clouddc_instances" "by_ids" {
  instance_ids = [%q, %q]
}
data "clouddc_instances" "by_servers" {
  server_ids = [%q, %q]
}
data "clouddc_instances" "terminated" {
  state = "terminated"
}
data "clouddc_instances" "combined" {
  instance_ids = [%q, %q, %q]
  server_ids   = [%q]
  name_regex   = "^db"
}
`, ids[0], ids[2], web2.ServerID, db2.ServerID, ids[0], ids[2], ids[3], db2.ServerID),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.clouddc_instances.all", tfjsonpath.New("ids"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(ids[0]), knownvalue.StringExact(ids[1]), knownvalue.StringExact(ids[2]), knownvalue.StringExact(ids[3])})),
				statecheck.ExpectKnownValue("data.clouddc_instances.web", tfjsonpath.New("ids"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(ids[0]), knownvalue.StringExact(ids[1])})),
				statecheck.ExpectKnownValue("data.clouddc_instances.running", tfjsonpath.New("ids"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(ids[3])})),
				statecheck.ExpectKnownValue("data.clouddc_instances.by_ids", tfjsonpath.New("instances"), count(2)),
				statecheck.ExpectKnownValue("data.clouddc_instances.by_ids", tfjsonpath.New("instances").AtSliceIndex(1).AtMapKey("name"), knownvalue.StringExact("db-1")),
				statecheck.ExpectKnownValue("data.clouddc_instances.by_servers", tfjsonpath.New("ids"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(ids[1]), knownvalue.StringExact(ids[3])})),
				statecheck.ExpectKnownValue("data.clouddc_instances.terminated", tfjsonpath.New("ids"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(ids[4])})),
				statecheck.ExpectKnownValue("data.clouddc_instances.combined", tfjsonpath.New("ids"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(ids[3])})),
			},
		}},
	})
}

func TestAccInstancesDataSource_readsEveryPage(t *testing.T) {
	opts := fastSimOptions()
	opts.CreateDuration = time.Hour
	opts.Servers = 1100
	opts.Subnets = []simulator.SubnetSpec{{ID: simulator.DefaultSubnetID, VPCID: simulator.DefaultVPCID, CIDR: mustPrefix("10.0.0.0/20")}}
	sim := startSimulator(t, opts)
	names := make([]string, 1050)
	for i := range names {
		names[i] = "fleet-" + strconv.Itoa(i)
	}
	seedInstances(t, sim, names...)
	before := sim.RequestCount(simulator.OpListInstances)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config: providerConfig(sim) + `data "clouddc_instances" "fleet" { name_regex = "^fleet-" }`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.clouddc_instances.fleet", tfjsonpath.New("ids"), knownvalue.ListSizeExact(1050)),
			},
		}},
	})
	// 1,050 instances need two pages of 1,000; each terraform command that
	// reads the data source pays two calls, not 105 pages of 10.
	if n := sim.RequestCount(simulator.OpListInstances) - before; n%2 != 0 || n == 0 || n > 8 {
		t.Errorf("%d list calls", n)
	}
}

func TestAccInstancesDataSource_invalidRegex(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config:      providerConfig(sim) + `data "clouddc_instances" "x" { name_regex = "web-(" }`,
			ExpectError: regexp.MustCompile(`(?s)Invalid Regular Expression.*name_regex "web-\(" is not a valid`),
		}, {
			Config:      providerConfig(sim) + `data "clouddc_instances" "x" { state = "sleeping" }`,
			ExpectError: regexp.MustCompile(`(?s)state.*value must be one of`),
		}, {
			Config: providerConfig(sim) + `data "clouddc_instances" "x" { state = "running" }`,
		}},
	})
}

func TestAccPhysicalServersDataSource(t *testing.T) {
	opts := fastSimOptions()
	opts.Servers = 4
	sim := startSimulator(t, opts)
	ids := seedInstances(t, sim, "on-server-1")
	used, _ := sim.Instance(ids[0])
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: providerConfig(sim) + `
data "clouddc_physical_servers" "all" {}
data "clouddc_physical_servers" "ready" {
  manage_state = "ready"
}
data "clouddc_physical_servers" "in_use" {
  manage_state = "in-use"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.clouddc_physical_servers.all", tfjsonpath.New("servers"), knownvalue.ListSizeExact(4)),
					statecheck.ExpectKnownValue("data.clouddc_physical_servers.ready", tfjsonpath.New("ids"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue("data.clouddc_physical_servers.in_use", tfjsonpath.New("ids"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(used.ServerID)})),
					statecheck.ExpectKnownValue("data.clouddc_physical_servers.in_use", tfjsonpath.New("servers").AtSliceIndex(0).AtMapKey("manage_state"),
						knownvalue.StringExact("in-use")),
					statecheck.ExpectKnownValue("data.clouddc_physical_servers.all", tfjsonpath.New("servers").AtSliceIndex(0).AtMapKey("power_state"),
						knownvalue.StringExact("on")),
				},
			},
			{
				Config:      providerConfig(sim) + `data "clouddc_physical_servers" "x" { manage_state = "broken" }`,
				ExpectError: regexp.MustCompile(`(?s)manage_state.*value must be one of`),
			},
			{Config: providerConfig(sim) + `data "clouddc_physical_servers" "x" {}`},
		},
	})
}
