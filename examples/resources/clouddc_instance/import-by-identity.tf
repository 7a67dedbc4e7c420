terraform {
  required_version = ">= 1.12.0" # import by identity (also OpenTofu 1.12)
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

# Bring an instance that was installed outside Terraform under management,
# by its identity. project_id may be left out; it defaults to the provider's,
# and must be the provider's when given. The instance's name, image, VPC,
# network interfaces, metadata and description must match the configuration
# below, or the plan replaces it (a new install).
#
# The API never returns the password, so the first apply after the import
# sets the configured one on the instance (ChangeInstancePassword); it takes
# effect at the server's next power-on or reboot. Review the plan first.
import {
  to = clouddc_instance.web
  identity = {
    id = "2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d"
  }
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
