terraform {
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

# Look an instance up by its exact name (or by id).
data "clouddc_instance" "web" {
  name = "web-1"
}

output "web_address" {
  value = data.clouddc_instance.web.network_interfaces[0].ipv4_address
}
