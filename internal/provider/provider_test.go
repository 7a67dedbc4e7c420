package provider

import (
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

func TestResolveSettings_precedence(t *testing.T) {
	t.Parallel()
	const (
		cfgEndpoint = "https://clouddc.cn-east-3.myhuaweicloud.com"
		envEndpoint = "https://clouddc.ap-southeast-3.myhuaweicloud.com"
	)
	str := types.StringValue
	// Zero types.String values are null: unset in the provider block.
	env := map[string]string{EnvEndpoint: envEndpoint, EnvProjectID: "env-project", EnvToken: "env-token"}
	hwToken := map[string]string{EnvHWRegion: "cn-south-1", EnvHWProjectID: "hw-project", EnvHWAuthToken: "hw-token"}
	hwKeys := map[string]string{EnvHWRegion: "cn-south-1", EnvHWProjectID: "hw-project",
		EnvHWAccessKey: "HWAK", EnvHWSecretKey: "hw-sk", EnvHWSecurityToken: "hw-st"}
	ourKeys := map[string]string{EnvEndpoint: envEndpoint, EnvProjectID: "env-project", EnvAccessKey: "ENVAK", EnvSecretKey: "env-sk"}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []settingsCase{
		{
			name: "configuration only",
			cfg:  providerModel{Endpoint: str(cfgEndpoint), ProjectID: str("cfg-project"), Token: str("cfg-token")},
			want: settings{endpoint: cfgEndpoint, projectID: "cfg-project", token: "cfg-token"},
		},
		{
			name: "environment only",
			env:  env,
			want: settings{endpoint: envEndpoint, projectID: "env-project", token: "env-token"},
		},
		{
			name: "configuration beats environment",
			cfg:  providerModel{Endpoint: str(cfgEndpoint), ProjectID: str("cfg-project"), Token: str("cfg-token")},
			env:  env,
			want: settings{endpoint: cfgEndpoint, projectID: "cfg-project", token: "cfg-token"},
		},
		{
			name: "mixed: each setting falls back on its own",
			cfg:  providerModel{ProjectID: str("cfg-project")},
			env:  env,
			want: settings{endpoint: envEndpoint, projectID: "cfg-project", token: "env-token"},
		},
		{
			name: "an empty string in the configuration falls back to the environment",
			cfg:  providerModel{Endpoint: str(""), ProjectID: str(""), Token: str(""), Region: str(""), AccessKey: str(""), SecretKey: str("")},
			env:  env,
			want: settings{endpoint: envEndpoint, projectID: "env-project", token: "env-token"},
		},
		{
			name: "the HuaweiCloud provider's variables alone; the endpoint follows from HW_REGION_NAME",
			env:  hwToken,
			want: settings{endpoint: "https://clouddc.cn-south-1.myhuaweicloud.com", region: "cn-south-1", projectID: "hw-project", token: "hw-token"},
		},
		{
			name: "CLOUDDC_* beat HW_*",
			env:  merge(hwToken, env, map[string]string{EnvRegion: "cn-east-3"}),
			want: settings{endpoint: envEndpoint, region: "cn-east-3", projectID: "env-project", token: "env-token"},
		},
		{
			name: "the configuration beats HW_*",
			cfg:  providerModel{Region: str("ap-southeast-3"), ProjectID: str("cfg-project"), Token: str("cfg-token")},
			env:  hwToken,
			want: settings{endpoint: "https://clouddc.ap-southeast-3.myhuaweicloud.com", region: "ap-southeast-3", projectID: "cfg-project", token: "cfg-token"},
		},
		{
			name: "region in the configuration gives the endpoint",
			cfg:  providerModel{Region: str("cn-southwest-2"), ProjectID: str("p"), Token: str("t")},
			want: settings{endpoint: "https://clouddc.cn-southwest-2.myhuaweicloud.com", region: "cn-southwest-2", projectID: "p", token: "t"},
		},
		{
			name: "CLOUDDC_REGION beats HW_REGION_NAME",
			env:  map[string]string{EnvRegion: "cn-east-3", EnvHWRegion: "cn-south-1", EnvProjectID: "p", EnvToken: "t"},
			want: settings{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", region: "cn-east-3", projectID: "p", token: "t"},
		},
		{
			name: "an endpoint beats a region, even one from a variable over a configured region",
			cfg:  providerModel{Region: str("cn-south-1"), ProjectID: str("p"), Token: str("t")},
			env:  map[string]string{EnvEndpoint: envEndpoint},
			want: settings{endpoint: envEndpoint, region: "cn-south-1", projectID: "p", token: "t"},
		},
		{
			name: "a malformed region that is not needed is not an error",
			cfg:  providerModel{Endpoint: str(cfgEndpoint), ProjectID: str("p"), Token: str("t")},
			env:  map[string]string{EnvHWRegion: "Shanghai"},
			want: settings{endpoint: cfgEndpoint, region: "Shanghai", projectID: "p", token: "t"},
		},
		{
			name: "access key pair in the configuration",
			cfg:  providerModel{Endpoint: str(cfgEndpoint), ProjectID: str("p"), AccessKey: str("CFGAK"), SecretKey: str("cfg-sk")},
			want: settings{endpoint: cfgEndpoint, projectID: "p", accessKey: "CFGAK", secretKey: "cfg-sk"},
		},
		{
			name: "temporary access key pair from the HuaweiCloud provider's variables",
			env:  hwKeys,
			want: settings{endpoint: "https://clouddc.cn-south-1.myhuaweicloud.com", region: "cn-south-1", projectID: "hw-project",
				accessKey: "HWAK", secretKey: "hw-sk", securityToken: "hw-st"},
		},
		{
			name: "access key in the configuration, secret key from CLOUDDC_SECRET_KEY",
			cfg:  providerModel{Endpoint: str(cfgEndpoint), ProjectID: str("p"), AccessKey: str("CFGAK")},
			env:  map[string]string{EnvSecretKey: "env-sk", EnvHWSecretKey: "hw-sk"},
			want: settings{endpoint: cfgEndpoint, projectID: "p", accessKey: "CFGAK", secretKey: "env-sk"},
		},
		{
			name: "CLOUDDC_* keys beat HW_* keys, one by one",
			env:  merge(hwKeys, ourKeys),
			want: settings{endpoint: envEndpoint, region: "cn-south-1", projectID: "env-project", accessKey: "ENVAK", secretKey: "env-sk", securityToken: "hw-st"},
		},
		{
			name: "keys in the configuration beat a token from the environment",
			cfg:  providerModel{AccessKey: str("CFGAK"), SecretKey: str("cfg-sk")},
			env:  merge(env, hwToken),
			want: settings{endpoint: envEndpoint, region: "cn-south-1", projectID: "env-project", accessKey: "CFGAK", secretKey: "cfg-sk"},
		},
		{
			name: "a token in the configuration beats the HuaweiCloud provider's keys, security token and all",
			cfg:  providerModel{Token: str("cfg-token")},
			env:  hwKeys,
			want: settings{endpoint: "https://clouddc.cn-south-1.myhuaweicloud.com", region: "cn-south-1", projectID: "hw-project", token: "cfg-token"},
		},
		{
			name: "CLOUDDC_TOKEN beats HW_ACCESS_KEY and HW_SECRET_KEY",
			env:  merge(hwKeys, env),
			want: settings{endpoint: envEndpoint, region: "cn-south-1", projectID: "env-project", token: "env-token"},
		},
		{
			name: "CLOUDDC_ACCESS_KEY and CLOUDDC_SECRET_KEY beat HW_AUTH_TOKEN",
			env:  merge(hwToken, ourKeys),
			want: settings{endpoint: envEndpoint, region: "cn-south-1", projectID: "env-project", accessKey: "ENVAK", secretKey: "env-sk"},
		},
	}
	runSettingsCases(t, tests)
}

func TestResolveSettings_errors(t *testing.T) {
	t.Parallel()
	str := types.StringValue
	// Secrets are distinctive, so that the test can prove that no error
	// repeats one.
	const (
		tok = "tok-S3cret-a1b2c3"
		sk  = "sk-S3cret-d4e5f6"
		st  = "st-S3cret-g7h8i9"
	)
	ok := providerModel{Endpoint: str("https://clouddc.example.com"), ProjectID: str("p"), Token: str(tok)}
	okKeys := providerModel{Endpoint: ok.Endpoint, ProjectID: ok.ProjectID}
	with := func(base providerModel, change func(*providerModel)) providerModel {
		change(&base)
		return base
	}
	tests := []settingsErrorCase{
		{"missing credentials", okKeys, nil,
			"token", "Missing CloudDC Credentials", []string{`"token"`, EnvToken, EnvHWAuthToken, `"access_key"`, `"secret_key"`, EnvAccessKey, EnvHWSecretKey}},
		{"missing endpoint and region", with(ok, func(m *providerModel) { m.Endpoint = types.StringNull() }), nil,
			"endpoint", "Missing CloudDC Endpoint", []string{`"endpoint"`, EnvEndpoint, `"region"`, EnvRegion, EnvHWRegion, "https://clouddc.{region}.myhuaweicloud.com"}},
		{"missing project", with(ok, func(m *providerModel) { m.ProjectID = types.StringNull() }), nil,
			"project_id", "Missing CloudDC Project ID", []string{`"project_id"`, EnvProjectID, EnvHWProjectID}},
		{"unknown token", with(ok, func(m *providerModel) { m.Token = types.StringUnknown() }), nil,
			"token", "Unknown CloudDC Token", []string{"known only after apply", EnvToken, EnvHWAuthToken}},
		{"unknown secret key", with(okKeys, func(m *providerModel) { m.AccessKey, m.SecretKey = str("AK"), types.StringUnknown() }), nil,
			"secret_key", "Unknown CloudDC Secret Key", []string{"known only after apply", EnvSecretKey}},
		{"unknown region", with(ok, func(m *providerModel) { m.Endpoint, m.Region = types.StringNull(), types.StringUnknown() }), nil,
			"region", "Unknown CloudDC Region", []string{"known only after apply", EnvRegion, EnvHWRegion}},
		{"http endpoint to a remote host", with(ok, func(m *providerModel) { m.Endpoint = str("http://clouddc.example.com") }), nil,
			"endpoint", "Invalid CloudDC Endpoint", []string{"plain http", "https"}},
		{"bad endpoint from the environment", providerModel{}, map[string]string{EnvEndpoint: "clouddc.example.com", EnvProjectID: "p", EnvToken: tok},
			"endpoint", "Invalid CloudDC Endpoint", []string{EnvEndpoint, "absolute URL"}},
		{"project ID with a slash", with(ok, func(m *providerModel) { m.ProjectID = str("a/b") }), nil,
			"project_id", "Invalid CloudDC Project ID", []string{`"a/b"`}},
		{"malformed region in the configuration", with(ok, func(m *providerModel) { m.Endpoint, m.Region = types.StringNull(), str("cn_east_3") }), nil,
			"region", "Invalid CloudDC Region", []string{`"cn_east_3"`, `"region" in the provider block`, "cn-east-3"}},
		{"malformed region from HW_REGION_NAME", with(ok, func(m *providerModel) { m.Endpoint = types.StringNull() }), map[string]string{EnvHWRegion: "Shanghai"},
			"region", "Invalid CloudDC Region", []string{`"Shanghai"`, EnvHWRegion}},
		{"token and keys in the configuration", with(ok, func(m *providerModel) { m.AccessKey, m.SecretKey = str("AK"), str(sk) }), nil,
			"token", "Conflicting CloudDC credentials", []string{"The provider block sets", `remove "token" from the provider block`, `remove "access_key" and "secret_key" from the provider block`}},
		{"token and keys from CLOUDDC_* variables", okKeys, map[string]string{EnvToken: tok, EnvAccessKey: "AK", EnvSecretKey: sk},
			"access_key", "Conflicting CloudDC credentials", []string{"unset " + EnvToken, "unset " + EnvAccessKey + " and " + EnvSecretKey}},
		{"token and keys from HW_* variables", okKeys, map[string]string{EnvHWAuthToken: tok, EnvHWAccessKey: "AK", EnvHWSecretKey: sk},
			"access_key", "Conflicting CloudDC credentials", []string{"unset " + EnvHWAuthToken, "unset " + EnvHWAccessKey + " and " + EnvHWSecretKey}},
		{"access key without a secret key", with(okKeys, func(m *providerModel) { m.AccessKey = str("AK") }), nil,
			"secret_key", "Missing CloudDC Secret Key", []string{`"access_key" in the provider block`, `"secret_key"`, EnvSecretKey, EnvHWSecretKey}},
		{"secret key without an access key", okKeys, map[string]string{EnvHWSecretKey: sk},
			"access_key", "Missing CloudDC Access Key", []string{EnvHWSecretKey, `"access_key"`, EnvAccessKey, EnvHWAccessKey}},
		{"security token with a token", with(ok, func(m *providerModel) { m.SecurityToken = str(st) }), nil,
			"security_token", "Security Token Without an Access Key Pair", []string{`"security_token" in the provider block`, `"token" in the provider block`}},
		{"access key with white space", okKeys, map[string]string{EnvAccessKey: "AK " + sk, EnvSecretKey: sk},
			"access_key", "Invalid CloudDC Access Key", []string{EnvAccessKey, "white space"}},
		{"security token alone", okKeys, map[string]string{EnvSecurityToken: st},
			"security_token", "Security Token Without an Access Key Pair", []string{EnvSecurityToken, "access_key and secret_key"}},
	}
	runSettingsErrorCases(t, tests, tok, sk, st)
}

func TestRegionRE(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]bool{
		"cn-east-3": true, "cn-southwest-2": true, "ap-southeast-3": true, "la-north-2": true, "cn-north-4": true, "af-south-1": true,
		"": false, "cn-east": false, "CN-EAST-3": false, "cn_east_3": false, "cn-east-3.example.com": false, "c-east-3": false,
		"cn-east-3/": false, "cn--3": false, "Shanghai": false,
	} {
		if got := regionRE.MatchString(region); got != want {
			t.Errorf("region %q: match = %v, want %v", region, got, want)
		}
	}
}

// TestCheckEndpoint: the provider's plan-time check is the client's rule
// (clouddc.CheckEndpoint, tested in the client with every case).
func TestCheckEndpoint(t *testing.T) {
	t.Parallel()
	if msg := checkEndpoint("http://127.0.0.1:8787"); msg != "" {
		t.Errorf("loopback http refused: %s", msg)
	}
	if msg := checkEndpoint("http://clouddc.cn-east-3.myhuaweicloud.com"); !strings.Contains(msg, "use https") {
		t.Errorf("plain http to a remote host: %q; want the client's refusal", msg)
	}
}

// The acceptance tests below configure the provider through the
// environment, so they cannot run in parallel (t.Setenv).

func TestAccProvider_configurationFromEnvironment(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	t.Setenv(EnvEndpoint, sim.URL)
	t.Setenv(EnvProjectID, sim.ProjectID())
	t.Setenv(EnvToken, sim.Token())
	testAppliesAndRuns(t, sim, `provider "clouddc" {}`, "acc-env")
}

func TestAccProvider_configurationBeatsEnvironment(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	// Every variable is wrong; the provider block must win over each.
	t.Setenv(EnvEndpoint, "http://192.0.2.1:1")
	t.Setenv(EnvProjectID, "ffffffffffffffffffffffffffffffff")
	t.Setenv(EnvToken, "wrong-token")
	testAppliesAndRuns(t, sim, providerConfig(sim), "acc-precedence")
}

func TestAccProvider_badConfiguration(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	t.Setenv(EnvEndpoint, "")
	t.Setenv(EnvProjectID, "")
	t.Setenv(EnvToken, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "clouddc" {
  endpoint   = "http://clouddc.example.com"
  project_id = %q
  token      = %q
}
`, sim.ProjectID(), sim.Token()) + instanceConfig("acc-bad-endpoint"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid CloudDC Endpoint.*plain http.*not loopback`),
			},
			{
				Config: fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
}
`, sim.URL, sim.ProjectID()) + instanceConfig("acc-no-token"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing CloudDC Credentials.*"token".*CLOUDDC_TOKEN.*"access_key"`),
			},
		},
	})
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 0 {
		t.Errorf("a misconfigured provider sent %d create requests", n)
	}
}

// startTLSSimulator serves a simulator over TLS with a certificate that no
// client trusts, as a test endpoint with a self-signed certificate would.
func startTLSSimulator(t *testing.T) (*simulator.Simulator, string) {
	t.Helper()
	skipOnExternal(t, "serves the in-process simulator behind a listener of its own")
	sim, err := simulator.New(fastSimOptions())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

func tlsProviderConfig(sim *simulator.Simulator, url, extra string) string {
	return fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
  token      = %q
  %s
}
`, url, sim.ProjectID(), sim.Token(), extra)
}

func TestAccProvider_tlsCertificateIsVerified(t *testing.T) {
	sim, url := startTLSSimulator(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config:      tlsProviderConfig(sim, url, "") + instanceConfig("acc-tls"),
			ExpectError: regexp.MustCompile(`(?s)Unable to Check the CloudDC Credentials.*certificate.*not\s+retried`),
		}},
	})
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 0 {
		t.Errorf("the API received %d creates over an unverified connection", n)
	}
}

func TestAccProvider_insecureSkipsVerificationWithAWarning(t *testing.T) {
	sim, url := startTLSSimulator(t)
	rec := &diagRecorder{}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: rec.factories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{{
			Config: tlsProviderConfig(sim, url, "insecure = true") + instanceConfig("acc-insecure"),
			Check:  resource.TestCheckResourceAttr(res, "state", "running"),
		}},
	})
	warned := false
	for _, d := range rec.all() {
		warned = warned || strings.Contains(d, "TLS Certificate Verification Is Off")
	}
	if !warned {
		t.Error("insecure = true did not warn")
	}
}

func TestAccProvider_invalidConfigurations(t *testing.T) {
	sim := startSimulator(t, fastSimOptions())
	tests := []struct {
		name, settings, want string
	}{
		{"endpoint without a scheme", `endpoint = "clouddc.cn-east-3.myhuaweicloud.com"`, `endpoint.*is not an absolute URL`},
		{"endpoint over plain http", `endpoint = "http://clouddc.cn-east-3.myhuaweicloud.com"`, `endpoint.*plain http to a host that is not loopback`},
		{"endpoint with another scheme", `endpoint = "ftp://clouddc.example.com"`, `endpoint.*has the scheme "ftp"; use https`},
		{"endpoint with credentials", `endpoint = "https://user:pw@clouddc.example.com"`, `endpoint.*must not contain user information`},
		{"endpoint with a query", `endpoint = "https://clouddc.example.com/?a=b"`, `endpoint.*must not have a query string`},
		{"negative max_retries", `max_retries = -1`, `max_retries.*between 0 and 100`},
		{"huge max_retries", `max_retries = 1000`, `max_retries.*between 0 and 100`},
		{"zero rate", `max_requests_per_second = 0`, `max_requests_per_second.*at least 0.01`},
		{"project ID with a slash", `project_id = "a/b"`, `Invalid CloudDC Project ID.*project_id: the project ID "a/b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			settings := map[string]string{"endpoint": fmt.Sprintf("endpoint = %q", sim.URL),
				"project_id": fmt.Sprintf("project_id = %q", sim.ProjectID()), "token": fmt.Sprintf("token = %q", sim.Token())}
			key := strings.TrimSpace(strings.SplitN(tc.settings, "=", 2)[0])
			settings[key] = tc.settings
			var b strings.Builder
			b.WriteString("provider \"clouddc\" {\n")
			for _, v := range settings {
				b.WriteString("  " + v + "\n")
			}
			b.WriteString("}\n")
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				Steps: []resource.TestStep{{
					Config:      b.String() + instanceConfig("acc-invalid-provider"),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(`(?s)` + strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 0 {
		t.Errorf("%d creates reached the API", n)
	}
}
