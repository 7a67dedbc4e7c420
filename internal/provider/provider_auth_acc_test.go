package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Access key pairs of the simulator in these tests. The simulator checks
// signatures with its own implementation, so an apply that succeeds with
// them proves that the provider signed every request correctly.
const (
	accPermanentAK = "ACCTESTPERMANENT0001"
	accPermanentSK = "acc-permanent-Secr3t-Key"
	accTemporaryAK = "ACCTESTTEMPORARY0001"
	accTemporarySK = "acc-temporary-Secr3t-Key"
	accSecToken    = "acc-security-token-Secr3t-gQpjbi1ub3J0aC00"
)

func akskSimOptions() simulator.Options {
	o := fastSimOptions()
	o.AccessKeys = map[string]simulator.AccessKey{
		accPermanentAK: {Secret: accPermanentSK},
		accTemporaryAK: {Secret: accTemporarySK, SecurityToken: accSecToken},
	}
	return o
}

// TestAccProvider_accessKeyPair configures the provider with access_key and
// secret_key and nothing else to authenticate with: a wrong secret key is
// refused by the simulator's signature check, the right one creates,
// reads and destroys an instance.
func TestAccProvider_accessKeyPair(t *testing.T) {
	sim := startSimulator(t, akskSimOptions())
	config := func(sk string) string {
		return fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
  access_key = %q
  secret_key = %q
}
`, sim.URL, sim.ProjectID(), accPermanentAK, sk) + instanceConfig("acc-aksk")
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				// Refused when the provider starts, before anything is planned,
				// with advice about the key pair that names where it came from.
				Config:   config("not-the-secret-key"),
				PlanOnly: true,
				ExpectError: wrapped(`Invalid CloudDC Credentials.*an access key pair: access_key from "access_key" in the provider block, ` +
					`secret_key from "secret_key" in the provider block.*HTTP 401.*iMetal.0003.*verify aksk signature fail.*` +
					`signature was refused.*secret key does not belong to the access key`),
			},
			{
				Config: config(accPermanentSK),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "state", "running"),
					resource.TestCheckResourceAttr(res, "name", "acc-aksk"),
					checkSimPassword(sim, testPassword),
				),
			},
		},
	})
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 1 {
		t.Errorf("%d create requests, want 1: the wrong key must be refused before any create", n)
	}
}

// TestAccProvider_gatewayRefusesSignature: Huawei Cloud's gateway refuses a
// signature itself, before the service, with APIGW.0301 and its own words.
// The error gives advice about the key pair, not about tokens, and says
// which variable supplied each half.
func TestAccProvider_gatewayRefusesSignature(t *testing.T) {
	sim := startSimulator(t, akskSimOptions())
	t.Setenv(EnvSecretKey, accPermanentSK)
	sim.InjectFault(simulator.Fault{Op: simulator.OpListServers, Status: 401, Code: "APIGW.0301",
		Message: "Incorrect IAM authentication information: verify aksk signature fail", Count: 10})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"clouddc\" {\n  endpoint   = %q\n  project_id = %q\n  access_key = %q\n}\n",
				sim.URL, sim.ProjectID(), accPermanentAK) + instanceConfig("acc-gateway-refuses"),
			PlanOnly: true,
			ExpectError: wrapped(`Invalid CloudDC Credentials.*an access key pair: access_key from "access_key" in the provider block, ` +
				`secret_key from the ` + EnvSecretKey + ` environment variable.*The CloudDC API answered GET .*physicalservers with HTTP 401.*` +
				`error_code: APIGW.0301.*verify aksk signature fail.*signature was refused.*secret key does not belong to the access key.*` +
				`My Credentials > Access Keys`),
		}},
	})
}

// TestAccProvider_huaweiCloudVariables: a shell set up for the huaweicloud
// provider (a temporary access key pair with its security token, and the
// project) is enough; HW_REGION_NAME yields to the endpoint in the block.
func TestAccProvider_huaweiCloudVariables(t *testing.T) {
	sim := startSimulator(t, akskSimOptions())
	t.Setenv(EnvHWAccessKey, accTemporaryAK)
	t.Setenv(EnvHWSecretKey, accTemporarySK)
	t.Setenv(EnvHWSecurityToken, accSecToken)
	t.Setenv(EnvHWProjectID, sim.ProjectID())
	t.Setenv(EnvHWRegion, "cn-east-3")
	testAppliesAndRuns(t, sim, fmt.Sprintf("provider \"clouddc\" {\n  endpoint = %q\n}\n", sim.URL), "acc-hw-env",
		checkSimPassword(sim, testPassword))
}

// TestAccProvider_huaweiCloudToken: HW_AUTH_TOKEN and HW_PROJECT_ID, with
// the endpoint from CLOUDDC_ENDPOINT.
func TestAccProvider_huaweiCloudToken(t *testing.T) {
	sim := startSimulator(t, akskSimOptions())
	t.Setenv(EnvEndpoint, sim.URL)
	t.Setenv(EnvHWAuthToken, sim.Token())
	t.Setenv(EnvHWProjectID, sim.ProjectID())
	testAppliesAndRuns(t, sim, `provider "clouddc" {}`, "acc-hw-token")
}

// TestAccProvider_credentialErrors: each mistake fails the plan with an
// error that names the attributes and variables to fix, before any
// request is made.
func TestAccProvider_credentialErrors(t *testing.T) {
	sim := startSimulator(t, akskSimOptions())
	block := func(lines ...string) string {
		return "provider \"clouddc\" {\n  " + strings.Join(lines, "\n  ") + "\n}\n"
	}
	endpoint := fmt.Sprintf("endpoint = %q", sim.URL)
	project := fmt.Sprintf("project_id = %q", sim.ProjectID())
	token := fmt.Sprintf("token = %q", sim.Token())
	ak := fmt.Sprintf("access_key = %q", accPermanentAK)
	sk := fmt.Sprintf("secret_key = %q", accPermanentSK)
	tests := []struct {
		name, provider, want string
	}{
		{"token and access key pair", block(endpoint, project, token, ak, sk),
			`Conflicting CloudDC credentials.*remove "token" from the provider block.*remove "access_key" and "secret_key"`},
		{"access key without secret key", block(endpoint, project, ak),
			`Missing CloudDC Secret Key.*access_key is set.*CLOUDDC_SECRET_KEY or HW_SECRET_KEY`},
		{"secret key without access key", block(endpoint, project, sk),
			`Missing CloudDC Access Key.*secret_key is set.*CLOUDDC_ACCESS_KEY or HW_ACCESS_KEY`},
		{"security token with a token", block(endpoint, project, token, fmt.Sprintf("security_token = %q", accSecToken)),
			`Security Token Without an Access Key Pair.*never sent with a token`},
		{"neither endpoint nor region", block(project, token),
			`Missing CloudDC Endpoint.*"endpoint".*CLOUDDC_ENDPOINT.*"region".*CLOUDDC_REGION.*HW_REGION_NAME`},
		{"malformed region", block(project, token, `region = "East China"`),
			`region.*must be a Huawei Cloud region name such as cn-east-3`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				Steps: []resource.TestStep{{
					Config:      tc.provider + instanceConfig("acc-credential-error"),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(`(?s)` + strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
	for op, n := range sim.RequestCounts() {
		t.Errorf("a misconfigured provider sent %d %s requests", n, op)
	}
}

// TestAccProvider_regionAlone: a region and no endpoint configures the
// provider (the endpoint follows from it); with the credential check
// skipped, planning a new instance needs no request, so the unreachable
// cloud endpoint is never called.
func TestAccProvider_regionAlone(t *testing.T) {
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config: `
provider "clouddc" {
  region     = "cn-east-3"
  project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
  access_key = "` + accPermanentAK + `"
  secret_key = "` + accPermanentSK + `"
  skip_credentials_validation = true
}
` + instanceConfig("acc-region"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}
