package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestAccProvider_huaweiCloudShell: with only HW_ACCESS_KEY, HW_SECRET_KEY
// and HW_REGION_NAME set (and the endpoints pointed at the simulator
// through their override variables), apply and destroy work: the project
// is looked up in IAM by the region's name. The lookup and the credential
// check are made once for the provider, not once per command.
func TestAccProvider_huaweiCloudShell(t *testing.T) {
	opts := akskSimOptions()
	opts.Region = "ap-southeast-3"
	sim := simulator.StartTest(t, opts)
	t.Setenv(EnvHWAccessKey, accPermanentAK)
	t.Setenv(EnvHWSecretKey, accPermanentSK)
	t.Setenv(EnvHWRegion, "ap-southeast-3")
	t.Setenv(EnvEndpoint, sim.URL)
	t.Setenv(EnvIAMEndpoint, sim.URL)
	testAppliesAndRuns(t, sim, `provider "clouddc" {}`, "acc-hw-shell", checkSimPassword(sim, testPassword))
	if n := sim.RequestCount(simulator.OpListProjects); n != 1 {
		t.Errorf("the project was looked up %d times, want once", n)
	}
	if n := sim.RequestCount(simulator.OpListServers); n != 1 {
		t.Errorf("the credentials were checked %d times, want once", n)
	}
}

// TestAccProvider_projectLookupFails: a region with no project of its
// name is an error at plan time that names the region and says how to set
// project_id instead; nothing else is called.
func TestAccProvider_projectLookupFails(t *testing.T) {
	sim := simulator.StartTest(t, akskSimOptions()) // its project is named cn-east-3
	config := fmt.Sprintf(`
provider "clouddc" {
  region       = "ap-southeast-3"
  endpoint     = %q
  iam_endpoint = %q
  token        = %q
}
`, sim.URL, sim.URL, sim.Token()) + instanceConfig("acc-no-project")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config:   config,
			PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)Unable to Look Up the CloudDC Project.*"ap-southeast-3".*no project named.*` +
				`Set project_id.*CLOUDDC_PROJECT_ID`),
		}},
	})
	for op, n := range sim.RequestCounts() {
		if op != simulator.OpListProjects && n != 0 {
			t.Errorf("%d %s requests after a failed lookup", n, op)
		}
	}
}

// TestAccProvider_badCredentialsFailAtPlan: with an empty state, wrong
// credentials fail terraform plan with one request, not the apply at
// "Creating..."; skip_credentials_validation plans without it.
func TestAccProvider_badCredentialsFailAtPlan(t *testing.T) {
	sim := simulator.StartTest(t, fastSimOptions())
	config := func(extra string) string {
		return fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
  token      = "not-a-valid-token"
  %s
}
`, sim.URL, sim.ProjectID(), extra) + instanceConfig("acc-bad-credentials")
	}
	want := `(?s)Invalid CloudDC Credentials.*checks its credentials \(a token, project ` + sim.ProjectID() + `\).*` +
		`HTTP 401.*iMetal.0003.*not retried.*Nothing was planned.*skip_credentials_validation = true.*` + EnvSkipCredentialsValidation
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:      config(""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(strings.ReplaceAll(want, " ", `\s+`)),
			},
			{
				Config:             config("skip_credentials_validation = true"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
	if n := sim.RequestCount(simulator.OpListServers); n != 1 {
		t.Errorf("%d credential checks, want 1 (none when skipped)", n)
	}
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 0 {
		t.Errorf("%d creates with wrong credentials", n)
	}
}
