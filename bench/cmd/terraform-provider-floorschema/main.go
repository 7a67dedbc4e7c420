// Command terraform-provider-floorschema serves the upper floor of the plan benchmark: clouddc_instance's schema without its plan logic (see package floors).
// make bench builds it; it is never released.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/clouddc-tf/terraform-provider-clouddc/bench/internal/floors"
)

func main() {
	if err := providerserver.Serve(context.Background(), floors.SameSchema, providerserver.ServeOpts{Address: floors.SameSchemaAddress}); err != nil {
		log.Fatal(err)
	}
}
