// Package clitest is what the tests and the benchmark share to run the real
// Terraform or OpenTofu CLI on a provider built from this repository: the
// build, a CLI configuration that points the registry address at it, and
// the fleet configuration the soak test and the benchmark apply.
//
// It lives in the provider's module because the soak and example tests use
// it; the benchmark harness (bench/, its own module) imports it from there.
package clitest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Registries are the hosts under which the two CLIs look up the
// provider's short source address clouddc-tf/clouddc: Terraform under
// registry.terraform.io, OpenTofu under registry.opentofu.org.
var Registries = []string{"registry.terraform.io", "registry.opentofu.org"}

// BuildProvider builds the provider from the repository at root into
// pluginDir, and writes a CLI configuration at rc whose dev_overrides point
// clouddc-tf/clouddc at it, under host and under both public registries, so
// that either CLI runs the build without a registry (host may be empty).
func BuildProvider(ctx context.Context, root, pluginDir, host, rc string) error {
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(pluginDir, "terraform-provider-clouddc"), ".") //nolint:gosec // G204: our own build into a folder of ours
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the provider: %w\n%s", err, out)
	}
	return os.WriteFile(rc, []byte(DevOverrides(pluginDir, host)), 0o600)
}

// DevOverrides is a CLI configuration that points clouddc-tf/clouddc at the
// provider binary in pluginDir, under extraHost (if any) and under both
// public registries, and installs every other provider as usual. The
// providers named in also (full addresses, such as
// registry.terraform.io/clouddc-tf/floorone: the benchmark's floors) are
// taken from pluginDir too.
func DevOverrides(pluginDir, extraHost string, also ...string) string {
	hosts := Registries
	if extraHost != "" && !slices.Contains(hosts, extraHost) {
		hosts = append([]string{extraHost}, hosts...)
	}
	var b strings.Builder
	b.WriteString("provider_installation {\n  dev_overrides {\n")
	for _, h := range hosts {
		fmt.Fprintf(&b, "    %q = %q\n", h+"/clouddc-tf/clouddc", pluginDir)
	}
	for _, a := range also {
		fmt.Fprintf(&b, "    %q = %q\n", a, pluginDir)
	}
	b.WriteString("  }\n  direct {}\n}\n")
	return b.String()
}

const providerHCL = `
terraform {
  required_providers {
    clouddc = { source = "clouddc-tf/clouddc" }
  }
}

provider "clouddc" {}

variable "root_password" {
  type      = string
  sensitive = true
}
`

// FleetHCL is a configuration of n clouddc_instance resources named
// prefix-0 to prefix-(n-1) in the simulator's default catalogue. The
// provider is configured from CLOUDDC_* variables and the password from
// TF_VAR_root_password.
func FleetHCL(prefix string, n int) string {
	return providerHCL + FleetResource("clouddc_instance", prefix, n)
}

// FleetResource is the resource block of FleetHCL for a resource type of
// clouddc_instance's schema (the benchmark's floor has another name); its
// password is var.root_password.
func FleetResource(resourceType, prefix string, n int) string {
	return fmt.Sprintf(`
resource %q "fleet" {
  count    = %d
  name     = "%s-${count.index}"
  image_id = %q
  vpc_id   = %q
  password = var.root_password
  network_interfaces = [{ subnet_id = %q }]
}
`, resourceType, n, prefix, simulator.DefaultImageID, simulator.DefaultVPCID, simulator.DefaultSubnetID)
}
