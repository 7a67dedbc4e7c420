package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func readExample(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAccExamples applies the examples that the documentation shows, as
// they are, against the simulator: the provider block, the resource, then
// every data source next to it.
func TestAccExamples(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	t.Setenv(EnvEndpoint, sim.URL)
	t.Setenv(EnvProjectID, sim.ProjectID())
	t.Setenv(EnvToken, sim.Token())
	t.Setenv("TF_VAR_root_password", "Example-Passw0rd")

	base := readExample(t, "provider/provider.tf") + readExample(t, "resources/clouddc_instance/resource.tf")
	dataSources, err := filepath.Glob(filepath.Join("..", "..", "examples", "data-sources", "*", "data-source.tf"))
	if err != nil || len(dataSources) < 3 {
		t.Fatalf("data source examples: %v %v", dataSources, err)
	}
	var all strings.Builder
	all.WriteString(base)
	for _, f := range dataSources {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	const protect = "deletion_protection = true"
	if !strings.Contains(base, protect) {
		t.Fatalf("the resource example no longer shows %q; update this test", protect)
	}
	unprotected := strings.ReplaceAll(all.String(), protect, "deletion_protection = false")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: base,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clouddc_instance.web", tfjsonpath.New("state"), knownvalue.StringExact("running")),
					statecheck.ExpectKnownValue("clouddc_instance.db", tfjsonpath.New("server_id"), knownvalue.StringExact("a0000000-0000-4000-8000-000000000003")),
				},
			},
			{
				Config: all.String(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.clouddc_instance.web", tfjsonpath.New("name"), knownvalue.StringExact("web-1")),
					statecheck.ExpectKnownValue("data.clouddc_instances.web", tfjsonpath.New("found_ids"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue("data.clouddc_physical_servers.ready", tfjsonpath.New("ids"), knownvalue.ListSizeExact(8)),
				},
			},
			{
				// What the example's comment says to do before a destroy.
				Config: unprotected,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clouddc_instance.db", tfjsonpath.New("deletion_protection"), knownvalue.Bool(false)),
				},
			},
		},
	})
}
