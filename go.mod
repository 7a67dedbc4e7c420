module github.com/clouddc-tf/terraform-provider-clouddc

go 1.26
