package provider

import (
	"maps"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestResolveSettings_huaweiCloudFallbacks: the settings added for users of
// the huaweicloud provider, each from the block, then CLOUDDC_*, then HW_*.
func TestResolveSettings_huaweiCloudFallbacks(t *testing.T) {
	t.Parallel()
	str := types.StringValue
	hwShell := map[string]string{EnvHWRegion: "cn-east-3", EnvHWAccessKey: "HWAK", EnvHWSecretKey: "hw-sk"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []settingsCase{
		{
			name: "a huaweicloud shell: the project is looked up in the region's IAM",
			env:  hwShell,
			want: settings{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", region: "cn-east-3",
				iamEndpoint: "https://iam.cn-east-3.myhuaweicloud.com", accessKey: "HWAK", secretKey: "hw-sk"},
		},
		{
			name: "the European region is served under myhuaweicloud.eu",
			env:  with(hwShell, EnvHWRegion, "eu-west-101"),
			want: settings{endpoint: "https://clouddc.eu-west-101.myhuaweicloud.eu", region: "eu-west-101",
				iamEndpoint: "https://iam.eu-west-101.myhuaweicloud.eu", accessKey: "HWAK", secretKey: "hw-sk"},
		},
		{
			name: "CLOUDDC_IAM_ENDPOINT overrides the region's IAM",
			env:  with(hwShell, EnvIAMEndpoint, "http://127.0.0.1:8787", EnvEndpoint, "http://127.0.0.1:8787"),
			want: settings{endpoint: "http://127.0.0.1:8787", region: "cn-east-3", iamEndpoint: "http://127.0.0.1:8787", accessKey: "HWAK", secretKey: "hw-sk"},
		},
		{
			name: "iam_endpoint in the block beats CLOUDDC_IAM_ENDPOINT",
			cfg:  providerModel{IAMEndpoint: str("https://iam.example.com")},
			env:  with(hwShell, EnvIAMEndpoint, "http://127.0.0.1:8787"),
			want: settings{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", region: "cn-east-3", iamEndpoint: "https://iam.example.com",
				accessKey: "HWAK", secretKey: "hw-sk"},
		},
		{
			name: "an unknown region with endpoint and iam_endpoint set is only the project's name",
			cfg:  providerModel{Endpoint: str("https://clouddc.new.example.com"), IAMEndpoint: str("https://iam.new.example.com")},
			env:  with(hwShell, EnvHWRegion, "xx-new-1"),
			want: settings{endpoint: "https://clouddc.new.example.com", region: "xx-new-1", iamEndpoint: "https://iam.new.example.com",
				accessKey: "HWAK", secretKey: "hw-sk"},
		},
		{
			name: "a project ID means no lookup, and no IAM endpoint",
			env:  with(hwShell, EnvHWProjectID, "hw-project", EnvIAMEndpoint, "https://iam.example.com"),
			want: settings{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", region: "cn-east-3", projectID: "hw-project",
				accessKey: "HWAK", secretKey: "hw-sk"},
		},
		{
			name: "HW_MAX_RETRIES, HW_INSECURE",
			env:  with(hwShell, EnvHWProjectID, "p", EnvHWMaxRetries, "3", EnvHWInsecure, "true"),
			want: settings{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", region: "cn-east-3", projectID: "p", accessKey: "HWAK", secretKey: "hw-sk",
				conn: connSettings{maxRetries: 3, maxRetriesSet: true, insecure: true, insecureFrom: "the HW_INSECURE environment variable"}},
		},
		{
			name: "CLOUDDC_* beat HW_*; 0 retries is a setting, not unset",
			env:  with(hwShell, EnvHWProjectID, "p", EnvHWMaxRetries, "3", EnvMaxRetries, "0", EnvHWInsecure, "true", EnvInsecure, "false"),
			want: settings{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", region: "cn-east-3", projectID: "p", accessKey: "HWAK", secretKey: "hw-sk",
				conn: connSettings{maxRetries: 0, maxRetriesSet: true, insecureFrom: "the CLOUDDC_INSECURE environment variable"}},
		},
		{
			name: "the block beats the variables",
			cfg:  providerModel{MaxRetries: types.Int64Value(7), Insecure: types.BoolValue(false), SkipCredentialsValidation: types.BoolValue(false)},
			env:  with(hwShell, EnvHWProjectID, "p", EnvMaxRetries, "2", EnvInsecure, "true", EnvSkipCredentialsValidation, "true"),
			want: settings{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", region: "cn-east-3", projectID: "p", accessKey: "HWAK", secretKey: "hw-sk",
				conn: connSettings{maxRetries: 7, maxRetriesSet: true, insecureFrom: `"insecure" in the provider block`}},
		},
		{
			name: "CLOUDDC_SKIP_CREDENTIALS_VALIDATION",
			env:  with(hwShell, EnvHWProjectID, "p", EnvSkipCredentialsValidation, "1"),
			want: settings{endpoint: "https://clouddc.cn-east-3.myhuaweicloud.com", region: "cn-east-3", projectID: "p", accessKey: "HWAK", secretKey: "hw-sk",
				conn: connSettings{skipCredentialsValidation: true}},
		},
	}
	runSettingsCases(t, tests)
}

// TestResolveSettings_huaweiCloudFallbackErrors: each mistake is one
// attribute error that names the attribute, where the value came from and
// what to do.
func TestResolveSettings_huaweiCloudFallbackErrors(t *testing.T) {
	t.Parallel()
	keys := map[string]string{EnvHWAccessKey: "HWAK", EnvHWSecretKey: "hw-sk"}
	with := func(kv ...string) map[string]string { return envWith(keys, kv...) }
	tests := []settingsErrorCase{
		{"an unknown region gives no endpoint", providerModel{}, with(EnvHWRegion, "cn-east-9", EnvHWProjectID, "p"),
			"region", "Unknown CloudDC Region", []string{`"cn-east-9"`, EnvHWRegion, "af-north-1, af-south-1", "eu-west-101", "set endpoint"}},
		{"an unknown region gives no IAM endpoint", providerModel{Endpoint: types.StringValue("https://clouddc.example.com")},
			with(EnvRegion, "cn-east-9"),
			"region", "Unknown CloudDC Region", []string{`"cn-east-9"`, EnvRegion, "cn-southwest-2", "project_id", "iam_endpoint"}},
		{"no project and no region", providerModel{Endpoint: types.StringValue("https://clouddc.example.com")}, keys,
			"project_id", "Missing CloudDC Project ID", []string{`"project_id"`, EnvProjectID, EnvHWProjectID, `"region"`, EnvHWRegion, "IAM"}},
		{"a remote IAM endpoint over http", providerModel{}, with(EnvHWRegion, "cn-east-3", EnvIAMEndpoint, "http://iam.example.com"),
			"iam_endpoint", "Invalid IAM Endpoint", []string{EnvIAMEndpoint, "plain http"}},
		{"HW_MAX_RETRIES not a number", providerModel{}, with(EnvHWRegion, "cn-east-3", EnvHWProjectID, "p", EnvHWMaxRetries, "ten"),
			"max_retries", "Invalid CloudDC Provider Setting", []string{EnvHWMaxRetries, `"ten"`, "0 to 100"}},
		{"CLOUDDC_MAX_RETRIES out of range", providerModel{}, with(EnvHWRegion, "cn-east-3", EnvHWProjectID, "p", EnvMaxRetries, "101"),
			"max_retries", "Invalid CloudDC Provider Setting", []string{EnvMaxRetries, "0 to 100"}},
		{"HW_INSECURE not a boolean", providerModel{}, with(EnvHWRegion, "cn-east-3", EnvHWProjectID, "p", EnvHWInsecure, "yes please"),
			"insecure", "Invalid CloudDC Provider Setting", []string{EnvHWInsecure, "true or false"}},
		{"unknown skip_credentials_validation", providerModel{SkipCredentialsValidation: types.BoolUnknown()}, with(EnvHWRegion, "cn-east-3", EnvHWProjectID, "p"),
			"skip_credentials_validation", "Unknown CloudDC Provider Setting", []string{"known only after apply", EnvSkipCredentialsValidation}},
	}
	runSettingsErrorCases(t, tests)
}

// TestRegionDomains: every known region has a well-formed name and one of
// the two domains, so that no table entry makes a host name nobody meant.
func TestRegionDomains(t *testing.T) {
	t.Parallel()
	for region, domain := range regionDomains {
		if !regionRE.MatchString(region) || (domain != domainCom && domain != domainEU) {
			t.Errorf("region %q -> %q", region, domain)
		}
	}
}

// settingsCase is a configuration and environment that resolveSettings
// must accept, and the settings it must resolve to.
type settingsCase struct {
	name string
	cfg  providerModel
	env  map[string]string
	want settings
}

func runSettingsCases(t *testing.T, tests []settingsCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := mustResolve(t, tc.cfg, tc.env)
			// Where the credentials came from is TestSettings_credentialSource's.
			got.credentialsFrom = ""
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// mustResolve resolves settings that must be valid.
func mustResolve(t *testing.T, cfg providerModel, env map[string]string) settings {
	t.Helper()
	got, diags := resolveSettings(cfg, func(k string) string { return env[k] })
	if diags.HasError() {
		t.Fatalf("unexpected diagnostics: %v", diags)
	}
	return got
}

// envWith is base with the variables kv (name, value, name, value, ...)
// added or replaced.
func envWith(base map[string]string, kv ...string) map[string]string {
	out := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestSettings_credentialSource: messages about the credentials name which
// setting or variable supplied each of them, and never a value.
func TestSettings_credentialSource(t *testing.T) {
	t.Parallel()
	base := map[string]string{EnvEndpoint: "https://clouddc.example.com", EnvProjectID: "p"}
	with := func(kv ...string) map[string]string { return envWith(base, kv...) }
	tests := []struct {
		name string
		cfg  providerModel
		env  map[string]string
		want string
	}{
		{"token in the block", providerModel{Token: types.StringValue("tok-secret")}, base,
			`a token, from "token" in the provider block`},
		{"token from HW_AUTH_TOKEN", providerModel{}, with(EnvHWAuthToken, "tok-secret"),
			"a token, from the " + EnvHWAuthToken + " environment variable"},
		{"a pair from two places", providerModel{AccessKey: types.StringValue("AKID")}, with(EnvSecretKey, "sk-secret"),
			`an access key pair: access_key from "access_key" in the provider block, secret_key from the ` + EnvSecretKey + " environment variable"},
		{"a temporary pair", providerModel{}, with(EnvHWAccessKey, "AKID", EnvHWSecretKey, "sk-secret", EnvHWSecurityToken, "st-secret"),
			"a temporary access key pair: access_key from the " + EnvHWAccessKey + " environment variable, secret_key from the " +
				EnvHWSecretKey + " environment variable, security_token from the " + EnvHWSecurityToken + " environment variable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := mustResolve(t, tc.cfg, tc.env).credentialSource()
			if src != tc.want {
				t.Errorf("credentialSource() = %q\nwant                 %q", src, tc.want)
			}
			for _, secret := range []string{"tok-secret", "sk-secret", "st-secret", "AKID"} {
				if strings.Contains(src, secret) {
					t.Errorf("credentialSource() = %q quotes a value", src)
				}
			}
		})
	}
}

// settingsErrorCase is a configuration and environment that resolveSettings
// must refuse with exactly one attribute error on attr, with this summary
// and a detail that mentions each of detail.
type settingsErrorCase struct {
	name    string
	cfg     providerModel
	env     map[string]string
	attr    string
	summary string
	detail  []string
}

// runSettingsErrorCases also fails when one of secrets appears in an error.
func runSettingsErrorCases(t *testing.T, tests []settingsErrorCase, secrets ...string) {
	t.Helper()
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
			wp, ok := d.(diag.DiagnosticWithPath)
			if !ok {
				t.Fatalf("the error is not an attribute error: %v", d)
			}
			if wp.Path().String() != tc.attr {
				t.Errorf("error is on %s, want %s", wp.Path(), tc.attr)
			}
			for _, secret := range secrets {
				if strings.Contains(d.Summary()+d.Detail(), secret) {
					t.Errorf("a secret appears in the error: %q", d.Detail())
				}
			}
		})
	}
}
