terraform {
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

# The servers that can take a new instance.
data "clouddc_physical_servers" "ready" {
  manage_state = "ready"
}

output "ready_servers" {
  value = data.clouddc_physical_servers.ready.ids
}
