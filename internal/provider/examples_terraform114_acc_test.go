package provider

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
)

// TestAccExamples_listResource runs the list resource's example query, as
// the documentation shows it, next to a provider block: TestAccExamples
// applies the .tf examples, but terraform query reads .tfquery.hcl files.
func TestAccExamples_listResource(t *testing.T) {
	skipUnless(t, queryTerraform)
	sim := startSimulator(t, fastSimOptions())
	ids := seedInstances(t, sim, "web-1", "db-1")
	waitRunning(t, sim, ids...)
	query, err := os.ReadFile(filepath.Join("..", "..", "examples", "list-resources", "clouddc_instance", "list-resource.tfquery.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   queryTerraform,
		Steps: []resource.TestStep{
			{
				Query:  true,
				Config: providerConfig(sim) + string(query),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("clouddc_instance.web", 1),
					querycheck.ExpectLength("clouddc_instance.rack_a", 2),
				},
			},
		},
	})
}
