# A write-only password (Terraform 1.11 and later, OpenTofu 1.11 and later):
# it reaches the API but never the plan or the state.
terraform {
  required_version = ">= 1.11"
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

variable "root_password" {
  type      = string
  sensitive = true
  ephemeral = true # never written to the plan or the state either
}

resource "clouddc_instance" "app" {
  name     = "app-1"
  image_id = "b0000000-0000-4000-8000-000000000001"
  vpc_id   = "c0000000-0000-4000-8000-000000000001"

  # Terraform cannot see a change of a write-only value: bump
  # password_wo_version to send a new password_wo to the instance.
  password_wo         = var.root_password
  password_wo_version = 1

  network_interfaces = [
    { subnet_id = "d0000000-0000-4000-8000-000000000001" },
  ]
}
