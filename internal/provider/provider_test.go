package provider

import (
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

func TestResolveSettings_precedence(t *testing.T) {
	t.Parallel()
	const (
		cfgEndpoint = "https://clouddc.cn-east-3.myhuaweicloud.com"
		envEndpoint = "https://clouddc.ap-southeast-3.myhuaweicloud.com"
	)
	env := map[string]string{EnvEndpoint: envEndpoint, EnvProjectID: "env-project", EnvToken: "env-token"}
	tests := []struct {
		name string
		cfg  providerModel
		env  map[string]string
		want settings
	}{
		{
			name: "configuration only",
			cfg:  providerModel{Endpoint: types.StringValue(cfgEndpoint), ProjectID: types.StringValue("cfg-project"), Token: types.StringValue("cfg-token")},
			env:  nil,
			want: settings{cfgEndpoint, "cfg-project", "cfg-token"},
		},
		{
			name: "environment only",
			cfg:  providerModel{Endpoint: types.StringNull(), ProjectID: types.StringNull(), Token: types.StringNull()},
			env:  env,
			want: settings{envEndpoint, "env-project", "env-token"},
		},
		{
			name: "configuration beats environment",
			cfg:  providerModel{Endpoint: types.StringValue(cfgEndpoint), ProjectID: types.StringValue("cfg-project"), Token: types.StringValue("cfg-token")},
			env:  env,
			want: settings{cfgEndpoint, "cfg-project", "cfg-token"},
		},
		{
			name: "mixed: each setting falls back on its own",
			cfg:  providerModel{Endpoint: types.StringNull(), ProjectID: types.StringValue("cfg-project"), Token: types.StringNull()},
			env:  env,
			want: settings{envEndpoint, "cfg-project", "env-token"},
		},
		{
			name: "an empty string in the configuration falls back to the environment",
			cfg:  providerModel{Endpoint: types.StringValue(""), ProjectID: types.StringValue(""), Token: types.StringValue("")},
			env:  env,
			want: settings{envEndpoint, "env-project", "env-token"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, diags := resolveSettings(tc.cfg, func(k string) string { return tc.env[k] })
			if diags.HasError() {
				t.Fatalf("unexpected diagnostics: %v", diags)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestResolveSettings_errors(t *testing.T) {
	t.Parallel()
	null := providerModel{Endpoint: types.StringNull(), ProjectID: types.StringNull(), Token: types.StringNull()}
	ok := providerModel{Endpoint: types.StringValue("https://clouddc.example.com"), ProjectID: types.StringValue("p"), Token: types.StringValue("t")}
	tests := []struct {
		name    string
		cfg     providerModel
		env     map[string]string
		attr    string
		summary string
		detail  []string
	}{
		{"missing token", providerModel{Endpoint: ok.Endpoint, ProjectID: ok.ProjectID, Token: types.StringNull()}, nil,
			"token", "Missing CloudDC token", []string{`"token"`, EnvToken}},
		{"missing endpoint", providerModel{Endpoint: types.StringNull(), ProjectID: ok.ProjectID, Token: ok.Token}, nil,
			"endpoint", "Missing CloudDC endpoint", []string{`"endpoint"`, EnvEndpoint}},
		{"missing project", providerModel{Endpoint: ok.Endpoint, ProjectID: types.StringNull(), Token: ok.Token}, nil,
			"project_id", "Missing CloudDC project ID", []string{`"project_id"`, EnvProjectID}},
		{"unknown token", providerModel{Endpoint: ok.Endpoint, ProjectID: ok.ProjectID, Token: types.StringUnknown()}, nil,
			"token", "Unknown CloudDC token", []string{"known only after apply", EnvToken}},
		{"http endpoint to a remote host", providerModel{Endpoint: types.StringValue("http://clouddc.example.com"), ProjectID: ok.ProjectID, Token: ok.Token}, nil,
			"endpoint", "Invalid CloudDC endpoint", []string{"plain http", "https"}},
		{"bad endpoint from the environment", null, map[string]string{EnvEndpoint: "clouddc.example.com", EnvProjectID: "p", EnvToken: "t"},
			"endpoint", "Invalid CloudDC endpoint", []string{EnvEndpoint, "absolute URL"}},
		{"project ID with a slash", providerModel{Endpoint: ok.Endpoint, ProjectID: types.StringValue("a/b"), Token: ok.Token}, nil,
			"project_id", "Invalid CloudDC project ID", []string{`"a/b"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, diags := resolveSettings(tc.cfg, func(k string) string { return tc.env[k] })
			if diags.ErrorsCount() != 1 {
				t.Fatalf("want exactly one error, got %v", diags)
			}
			d := diags.Errors()[0]
			if d.Summary() != tc.summary {
				t.Errorf("summary %q, want %q", d.Summary(), tc.summary)
			}
			for _, s := range tc.detail {
				if !strings.Contains(d.Detail(), s) {
					t.Errorf("detail %q does not mention %q", d.Detail(), s)
				}
			}
			if ad, ok := d.(interface {
				Path() interface{ String() string }
			}); ok && ad.Path().String() != tc.attr {
				t.Errorf("error is on %s, want %s", ad.Path().String(), tc.attr)
			}
			// The token never appears in an error.
			if tc.cfg.Token.ValueString() != "" && strings.Contains(d.Detail(), tc.cfg.Token.ValueString()) && len(tc.cfg.Token.ValueString()) > 3 {
				t.Errorf("the token appears in the error: %q", d.Detail())
			}
		})
	}
}

func TestCheckEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"https://clouddc.cn-east-3.myhuaweicloud.com", true},
		{"https://clouddc.cn-east-3.myhuaweicloud.com/", true},
		{"https://10.0.0.5:8443/proxy", true},
		{"http://127.0.0.1:8787", true},
		{"http://127.9.9.9", true},
		{"http://localhost:8787", true},
		{"http://LOCALHOST", true},
		{"http://[::1]:8787", true},
		{"http://clouddc.cn-east-3.myhuaweicloud.com", false},
		{"http://10.0.0.5", false},
		{"http://localhost.example.com", false},
		{"ftp://clouddc.example.com", false},
		{"clouddc.cn-east-3.myhuaweicloud.com", false},
		{"https://", false},
		{"https://user:pw@clouddc.example.com", false},
		{"https://clouddc.example.com/?x=1", false},
		{"://bad", false},
	}
	for _, tc := range tests {
		t.Run(tc.endpoint, func(t *testing.T) {
			t.Parallel()
			msg := checkEndpoint(tc.endpoint)
			if (msg == "") != tc.ok {
				t.Errorf("checkEndpoint(%q) = %q, want ok=%v", tc.endpoint, msg, tc.ok)
			}
		})
	}
}

// The acceptance tests below configure the provider through the
// environment, so they cannot run in parallel (t.Setenv).

func TestAccProvider_configurationFromEnvironment(t *testing.T) {
	sim := simulator.StartTest(t, fastSimOptions())
	t.Setenv(EnvEndpoint, sim.URL)
	t.Setenv(EnvProjectID, sim.ProjectID())
	t.Setenv(EnvToken, sim.Token())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{{
			Config: `provider "clouddc" {}` + instanceConfig("acc-env"),
			Check:  resource.TestCheckResourceAttr(res, "state", "running"),
		}},
	})
}

func TestAccProvider_configurationBeatsEnvironment(t *testing.T) {
	sim := simulator.StartTest(t, fastSimOptions())
	// Every variable is wrong; the provider block must win over each.
	t.Setenv(EnvEndpoint, "http://192.0.2.1:1")
	t.Setenv(EnvProjectID, "ffffffffffffffffffffffffffffffff")
	t.Setenv(EnvToken, "wrong-token")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{{
			Config: providerConfig(sim) + instanceConfig("acc-precedence"),
			Check:  resource.TestCheckResourceAttr(res, "state", "running"),
		}},
	})
}

func TestAccProvider_badConfiguration(t *testing.T) {
	sim := simulator.StartTest(t, fastSimOptions())
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
				ExpectError: regexp.MustCompile(`(?s)Invalid CloudDC endpoint.*plain http.*not loopback`),
			},
			{
				Config: fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
}
`, sim.URL, sim.ProjectID()) + instanceConfig("acc-no-token"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing CloudDC token.*"token".*CLOUDDC_TOKEN`),
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
			ExpectError: regexp.MustCompile(`(?s)Unable to Create Instance.*certificate`),
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
		CheckDestroy: func(*terraform.State) error {
			for _, in := range sim.Instances() {
				if in.State != "terminated" {
					return fmt.Errorf("instance %s is %s", in.ID, in.State)
				}
			}
			return nil
		},
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
	sim := simulator.StartTest(t, fastSimOptions())
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
		{"project ID with a slash", `project_id = "a/b"`, `Invalid CloudDC project ID.*project_id: the project ID "a/b"`},
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
