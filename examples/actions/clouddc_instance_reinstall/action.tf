# Terraform 1.14 and later (actions); not OpenTofu.
terraform {
  required_version = ">= 1.14.0"
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

# The instance takes the password write-only (password_wo), and so does the
# action: neither stores it in the state. An ephemeral variable works too
# (ephemeral = true keeps it out of saved plans as well), except that
# Terraform 1.16 drops an ephemeral value when the action runs with
# -invoke, as below; from an action_trigger it works there too.
variable "root_password" {
  type      = string
  sensitive = true
}

resource "clouddc_instance" "web" {
  name                = "web-1"
  image_id            = "b0000000-0000-4000-8000-000000000001"
  vpc_id              = "c0000000-0000-4000-8000-000000000001"
  password_wo         = var.root_password
  password_wo_version = 1

  network_interfaces = [
    { subnet_id = "d0000000-0000-4000-8000-000000000001" },
  ]
}

# Reinstall web-1's operating system from the image it has, with a fresh
# system disk (data disks are kept):
#   terraform apply -invoke=action.clouddc_instance_reinstall.web
# Give the instance's current password: the provider cannot read it back.
# The instance's deletion_protection goes with it: while it is true, the
# reinstall is refused.
action "clouddc_instance_reinstall" "web" {
  config {
    instance_id         = clouddc_instance.web.id
    password            = var.root_password
    deletion_protection = clouddc_instance.web.deletion_protection

    timeouts {
      invoke = "45m"
    }
  }
}
