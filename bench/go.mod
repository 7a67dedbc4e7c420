module github.com/clouddc-tf/terraform-provider-clouddc/bench

go 1.26.0

require (
	github.com/clouddc-tf/terraform-provider-clouddc v0.0.0
	golang.org/x/image v0.48.0
)

require golang.org/x/time v0.16.0 // indirect

// The harness measures the provider of this repository, never a published one.
replace github.com/clouddc-tf/terraform-provider-clouddc => ../
