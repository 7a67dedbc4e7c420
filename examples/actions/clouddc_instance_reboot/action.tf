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

action "clouddc_instance_reboot" "web" {
  config {
    instance_id = clouddc_instance.web.id
  }
}

# A new password takes effect at the server's next power-on or reboot.
# Reboot web-1 whenever its password changes, so that the new one works at
# once. terraform_data follows the password (hashed, so that it is not
# stored) and is updated after the instance; its update invokes the
# action. It is created quietly: creating it does not reboot.
resource "terraform_data" "web_password" {
  # With password_wo, follow clouddc_instance.web.password_wo_version.
  input = sha256(clouddc_instance.web.password)

  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.clouddc_instance_reboot.web]
    }
  }
}
