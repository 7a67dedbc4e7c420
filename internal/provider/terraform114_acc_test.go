package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// Resource identity needs Terraform 1.12 or OpenTofu 1.12 (which imports by
// identity too), list resources (terraform query) and actions Terraform
// 1.14; OpenTofu has neither of those, whatever its version number says, so
// their checks skip on it.
var (
	identityTerraform = []tfversion.TerraformVersionCheck{terraformAtLeast{version.Must(version.NewVersion("1.12.0")), "resource identity", true}}
	queryTerraform    = []tfversion.TerraformVersionCheck{terraformAtLeast{tfversion.Version1_14_0, "terraform query and list resources", false}}
	actionsTerraform  = []tfversion.TerraformVersionCheck{terraformAtLeast{tfversion.Version1_14_0, "actions", false}}
)

// terraformAtLeast skips a test on a CLI below min, and on OpenTofu unless
// inOpenTofu says that OpenTofu has the feature from the same version.
type terraformAtLeast struct {
	min        *version.Version
	feature    string
	inOpenTofu bool
}

func (c terraformAtLeast) CheckTerraformVersion(_ context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	switch {
	case isOpenTofu() && !c.inOpenTofu:
		resp.Skip = fmt.Sprintf("OpenTofu does not support %s", c.feature)
	case isOpenTofu() && req.TerraformVersion.Core().LessThan(c.min):
		resp.Skip = fmt.Sprintf("OpenTofu %s does not support %s (needs %s)", req.TerraformVersion, c.feature, c.min)
	case req.TerraformVersion.Core().LessThan(c.min):
		resp.Skip = fmt.Sprintf("Terraform %s does not support %s (needs %s)", req.TerraformVersion, c.feature, c.min)
	}
}

var openTofu = sync.OnceValue(func() bool {
	out, err := exec.CommandContext(context.Background(), os.Getenv("TF_ACC_TERRAFORM_PATH"), "version").Output() //nolint:gosec // G204: the CLI under test
	return err == nil && strings.HasPrefix(string(out), "OpenTofu")
})

func isOpenTofu() bool { return os.Getenv("TF_ACC_TERRAFORM_PATH") != "" && openTofu() }

// cliProvider serves the provider for a Terraform CLI that a test runs by
// hand (for the commands terraform-plugin-testing cannot run, such as
// terraform query -generate-config-out or terraform untaint), the way the
// test framework does: in-process, reached through TF_REATTACH_PROVIDERS.
func cliProvider(t *testing.T) (env []string) {
	t.Helper()
	// The address the CLI resolves clouddc to: OpenTofu's registry for
	// OpenTofu (make testacc-tofu sets TF_ACC_PROVIDER_HOST), else Terraform's.
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	address := host + "/hashicorp/clouddc"
	ctx, cancel := context.WithCancel(context.Background())
	cfgCh := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		factory := NewProtocol6ServerWithError(&clouddcProvider{
			version:       "test",
			clientOptions: []clouddc.Option{clouddc.WithPollSchedule(testPollSchedule), clouddc.WithCreateLookup(testCreateLookup)},
		})
		err := tf6server.Serve(address, func() tfprotov6.ProviderServer {
			s, err := factory()
			if err != nil {
				panic(err)
			}
			return s
		}, tf6server.WithDebug(ctx, cfgCh, closed), tf6server.WithoutLogStderrOverride(), tf6server.WithLoggingSink(t))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	cfg := <-cfgCh
	t.Cleanup(func() {
		cancel()
		<-closed
	})
	// The shape Terraform reads from TF_REATTACH_PROVIDERS.
	js, err := json.Marshal(map[string]any{address: map[string]any{
		"Protocol": string(cfg.Protocol), "ProtocolVersion": cfg.ProtocolVersion, "Pid": cfg.Pid, "Test": true,
		"Addr": map[string]string{"Network": cfg.Addr.Network(), "String": cfg.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(js), "TF_IN_AUTOMATION=1")
}

// runReattached runs the CLI under test in dir and returns its combined output.
func runReattached(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Getenv("TF_ACC_TERRAFORM_PATH"), args...) //nolint:gosec // G204: the CLI under test
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// runReattachedFailing runs the CLI under test in dir, fails the test
// unless the CLI fails, and returns its combined output.
func runReattachedFailing(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Getenv("TF_ACC_TERRAFORM_PATH"), args...) //nolint:gosec // G204: the CLI under test
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("terraform %s succeeded; it should have failed:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}

// writeFiles writes name → content into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// skipReason applies a version check to the CLI under test, for tests that
// run the CLI by hand rather than through resource.Test.
func skipReason(t *testing.T, c tfversion.TerraformVersionCheck) string {
	t.Helper()
	path := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if path == "" {
		return "TF_ACC_TERRAFORM_PATH is not set"
	}
	out, err := exec.CommandContext(t.Context(), path, "version", "-json").Output() //nolint:gosec // G204: the CLI under test
	if err != nil {
		t.Fatalf("%s version -json: %v", path, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s version -json: %v\n%s", path, err, out)
	}
	ver, err := version.NewVersion(v.Version)
	if err != nil {
		t.Fatal(err)
	}
	var resp tfversion.CheckTerraformVersionResponse
	c.CheckTerraformVersion(context.Background(), tfversion.CheckTerraformVersionRequest{TerraformVersion: ver}, &resp)
	return resp.Skip
}

// skipUnless skips an acceptance test before it does any work when the CLI
// under test lacks a feature (TerraformVersionChecks only skip once
// resource.Test runs, after the test's own set-up).
func skipUnless(t *testing.T, checks []tfversion.TerraformVersionCheck) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	for _, c := range checks {
		if reason := skipReason(t, c); reason != "" {
			t.Skip(reason)
		}
	}
}
