// Command terraform-provider-clouddc is the Terraform provider for Huawei
// Cloud CloudDC iMetal instances.
package main

import (
	"flag"
	"log"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/provider"
)

// version is set by the release build (-ldflags "-X main.version=...").
var version = "dev"

// exitParentGone is the exit status when the CLI that started the provider
// went away without ending it (nobody is left to read it).
const exitParentGone = 3

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers such as delve")
	flag.Parse()

	alignSDKLogLevels()
	if !debug {
		// With -debug the provider is started by hand (or by a debugger)
		// and outlives the CLIs that attach to it.
		exitWithParent(func() { os.Exit(exitParentGone) })
	}
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	// What providerserver.Serve does, with the provider's own protocol
	// server: the framework's, with a repair (provider.NewProtocol6Server).
	err := tf6server.Serve("registry.terraform.io/clouddc-tf/clouddc", provider.NewProtocol6Server(provider.New(version)()), opts...)
	if err != nil {
		// Terraform starts the provider; before the gRPC server runs there
		// is no tflog sink, so a start-up failure goes to stderr.
		log.Fatal(err)
	}
}

// alignSDKLogLevels makes the plugin SDKs log only what Terraform will show.
// Their loggers default to TRACE and Terraform filters the lines afterwards,
// so with TF_LOG unset the provider formatted a dozen trace lines per
// attribute, per resource, for nobody: planning 500 instances took ten
// times as long as planning 500 terraform_data resources. The documented
// TF_LOG_SDK* variables win when a user sets them.
func alignSDKLogLevels() {
	level := os.Getenv("TF_LOG_PROVIDER")
	if level == "" {
		level = os.Getenv("TF_LOG")
	}
	switch strings.ToUpper(level) {
	case "":
		level = "OFF"
	case "JSON": // TF_LOG=JSON is TRACE, written as JSON
		level = "TRACE"
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if os.Getenv(v) == "" {
			_ = os.Setenv(v, level) // cannot fail for these names and values
		}
	}
}
