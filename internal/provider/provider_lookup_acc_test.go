package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestAccProvider_huaweiCloudShell: with only HW_ACCESS_KEY, HW_SECRET_KEY
// and HW_REGION_NAME set (and the endpoints pointed at the target through
// their override variables), apply and destroy work: the project is looked
// up in IAM by the region's name. On the simulator, the lookup and the
// credential check are seen to be made once for the provider, not once
// per command. It runs on an external endpoint too.
func TestAccProvider_huaweiCloudShell(t *testing.T) {
	a := newAccTarget(t)
	if a.accessKey == "" {
		t.Skipf("needs an access key pair (%s and %s): a huaweicloud shell signs with one", EnvAccAccessKey, EnvAccSecretKey)
	}
	if a.region == "" {
		t.Skipf("needs %s: the project is looked up by the region's name", EnvAccRegion)
	}
	t.Setenv(EnvHWAccessKey, a.accessKey)
	t.Setenv(EnvHWSecretKey, a.secretKey)
	t.Setenv(EnvHWRegion, a.region)
	t.Setenv(EnvEndpoint, a.endpoint)
	if a.iamEndpoint != "" {
		t.Setenv(EnvIAMEndpoint, a.iamEndpoint)
	}
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories(),
		CheckDestroy:             a.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: `provider "clouddc" {}` + a.instanceConfig(a.name("hw-shell")),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(res, "state", "running"),
				captureID(&id),
				a.checkRunning(&id),
			),
		}},
	})
	if a.sim != nil {
		if n := a.sim.RequestCount(simulator.OpListProjects); n != 1 {
			t.Errorf("the project was looked up %d times, want once", n)
		}
		if n := a.sim.RequestCount(simulator.OpListServers); n != 1 {
			t.Errorf("the credentials were checked %d times, want once", n)
		}
	}
}

// TestAccProvider_projectLookupFails: a region with no project of its
// name is an error at plan time that names the region and says how to set
// project_id instead; nothing else is called.
func TestAccProvider_projectLookupFails(t *testing.T) {
	sim := startSimulator(t, akskSimOptions()) // its project is named cn-east-3
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

// TestAccProvider_projectLookupRefused: IAM's 401 on the project lookup is
// reported as IAM's, with advice for the key pair that names where each
// half came from, and nothing is asked of CloudDC.
func TestAccProvider_projectLookupRefused(t *testing.T) {
	sim := startSimulator(t, akskSimOptions()) // its project is named cn-east-3
	t.Setenv(EnvHWAccessKey, accPermanentAK)
	t.Setenv(EnvHWSecretKey, "not-the-secret-key")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"clouddc\" {\n  region       = \"cn-east-3\"\n  endpoint     = %q\n  iam_endpoint = %q\n}\n",
				sim.URL, sim.URL) + instanceConfig("acc-lookup-refused"),
			PlanOnly: true,
			ExpectError: wrapped(`Unable to Look Up the CloudDC Project.*IAM project named "cn-east-3".*an access key pair: access_key from the ` +
				EnvHWAccessKey + ` environment variable, secret_key from the ` + EnvHWSecretKey + ` environment variable.*` +
				`IAM refused the credentials.*IAM answered GET /v3/projects with HTTP 401.*signature was refused.*` +
				`secret key does not belong to the access key.*Fix the credentials`),
		}},
	})
	for op, n := range sim.RequestCounts() {
		if op != simulator.OpListProjects && n != 0 {
			t.Errorf("%d %s requests after a refused lookup", n, op)
		}
	}
}

// TestAccProvider_badCredentialsFailAtPlan: with an empty state, wrong
// credentials fail terraform plan with one request, not the apply at
// "Creating..."; skip_credentials_validation plans without it. It runs on
// an external endpoint too.
func TestAccProvider_badCredentialsFailAtPlan(t *testing.T) {
	a := newAccTarget(t)
	config := func(extra string) string {
		return fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
  token      = "not-a-valid-token"
  %s
}
`, a.endpoint, a.projectID, extra) + a.instanceConfig(a.name("bad-credentials"))
	}
	want := `(?s)Invalid CloudDC Credentials.*checks its credentials \(a token, from "token" in the provider block, project ` + a.projectID + `\).*` +
		`HTTP 401.*not retried.*Nothing was planned.*skip_credentials_validation = true.*` + EnvSkipCredentialsValidation
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories(),
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
	if a.sim != nil {
		if n := a.sim.RequestCount(simulator.OpListServers); n != 1 {
			t.Errorf("%d credential checks, want 1 (none when skipped)", n)
		}
		if n := a.sim.RequestCount(simulator.OpCreateInstance); n != 0 {
			t.Errorf("%d creates with wrong credentials", n)
		}
	}
}

// TestAccProvider_credentialCheckNamesItsRetries: when the check fails
// with an error worth retrying, the error says how often it was retried.
func TestAccProvider_credentialCheckNamesItsRetries(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	sim.SetFailureRate(simulator.OpListServers, 1, 503, 1)
	config := fmt.Sprintf(`
provider "clouddc" {
  endpoint    = %q
  project_id  = %q
  token       = %q
  max_retries = 1
}
`, sim.URL, sim.ProjectID(), sim.Token()) + instanceConfig("acc-check-retried")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config:      config,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Unable to Check the CloudDC Credentials.*HTTP 503.*retried\s+the\s+request\s+1\s+times.*max_retries`),
		}},
	})
	if n := sim.RequestCount(simulator.OpListServers); n != 2 {
		t.Errorf("%d credential checks, want 2 (one retry)", n)
	}
}

// An endpoint that refuses connections, or accepts them and never
// answers, fails the plan within the start-up checks' limit (10 s; 1 s
// here), saying how often the request was retried and why it stopped:
// not after the minutes of silence that an apply's retries would take.
func TestAccProvider_unreachableEndpointFailsFast(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hung.Close)
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"clouddc": providerserver.NewProtocol6WithError(&clouddcProvider{version: "test", startupTimeout: time.Second}),
	}
	for name, tc := range map[string]struct{ url, want string }{
		"refused": {refusedURL, `(?s)Unable to Check the CloudDC Credentials.*connection refused.*retried \d+ times, until the start-up checks' limit of 1s ran out`},
		"hung":    {hung.URL, `(?s)Unable to Check the CloudDC Credentials.*did not answer within the start-up checks' limit of 1s`},
	} {
		t.Run(name, func(t *testing.T) {
			config := fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
  token      = "a-token"
}
`, tc.url) + instanceConfig("acc-unreachable")
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories,
				Steps: []resource.TestStep{{
					Config: config, PlanOnly: true,
					ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
}
