# instances.tfquery.hcl, next to the configuration that holds the provider
# block. `terraform query` lists what matches, as "name (id)";
# `terraform query -generate-config-out=instances.tf` also writes a
# clouddc_instance and an import block (by identity) for each, to review and
# then plan. Set the password in each generated resource first: the API
# never returns it. Instances that Terraform made (they carry its create
# token) and instances being deleted are left out.
list "clouddc_instance" "web" {
  provider = clouddc

  config {
    name_regex = "^web-"
    state      = "running"
  }
}

# Everything on two physical servers, stopped or running.
list "clouddc_instance" "rack_a" {
  provider = clouddc

  config {
    server_ids = [
      "a0000000-0000-4000-8000-000000000001",
      "a0000000-0000-4000-8000-000000000002",
    ]
  }
}
