// Command terraform-provider-clouddc is the Terraform provider for Huawei
// Cloud CloudDC iMetal instances.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/provider"
)

// version is set by the release build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers such as delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/clouddc-tf/clouddc",
		Debug:   debug,
	})
	if err != nil {
		// Terraform starts the provider; before the gRPC server runs there
		// is no tflog sink, so a start-up failure goes to stderr.
		log.Fatal(err)
	}
}
