// Command terraform-provider-floorone serves the lower floor of the plan benchmark: one resource of one attribute (see package floors).
// make bench builds it; it is never released.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/clouddc-tf/terraform-provider-clouddc/bench/internal/floors"
)

func main() {
	if err := providerserver.Serve(context.Background(), floors.OneAttribute, providerserver.ServeOpts{Address: floors.OneAttributeAddress}); err != nil {
		log.Fatal(err)
	}
}
