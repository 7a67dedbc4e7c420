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

# Reinstall web-1's operating system from the image it has, with a fresh
# system disk (data disks are kept):
#   terraform apply -invoke=action.clouddc_instance_reinstall.web
# The password comes from a sensitive variable, which keeps it hidden in
# the plan; give the instance's current password.
action "clouddc_instance_reinstall" "web" {
  config {
    instance_id = clouddc_instance.web.id
    password    = var.root_password

    timeouts {
      invoke = "45m"
    }
  }
}
