# Terraform 1.14 and later (actions); not OpenTofu.
terraform {
  required_version = ">= 1.14.0"
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

variable "root_password" {
  type      = string
  sensitive = true
}

resource "clouddc_instance" "web" {
  name     = "web-1"
  image_id = "b0000000-0000-4000-8000-000000000001"
  vpc_id   = "c0000000-0000-4000-8000-000000000001"
  password = var.root_password

  network_interfaces = [
    { subnet_id = "d0000000-0000-4000-8000-000000000001" },
  ]
}

# Power the server under web-1 back on:
#   terraform apply -invoke=action.clouddc_instance_power_on.web
action "clouddc_instance_power_on" "web" {
  config {
    instance_id = clouddc_instance.web.id
  }
}
