terraform {
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

# An instance on any ready server, with an address assigned by the API.
resource "clouddc_instance" "web" {
  name     = "web-1"
  image_id = "b0000000-0000-4000-8000-000000000001"
  vpc_id   = "c0000000-0000-4000-8000-000000000001"
  password = var.root_password

  network_interfaces = [
    { subnet_id = "d0000000-0000-4000-8000-000000000001" },
  ]

  metadata = {
    team = "platform"
  }
  description = "frontend"
}

# An instance on a chosen server, with two NICs and a fixed address.
resource "clouddc_instance" "db" {
  name      = "db-1"
  image_id  = "b0000000-0000-4000-8000-000000000002"
  vpc_id    = "c0000000-0000-4000-8000-000000000001"
  password  = var.root_password
  server_id = "a0000000-0000-4000-8000-000000000003"

  network_interfaces = [
    { subnet_id = "d0000000-0000-4000-8000-000000000001", ipv4_address = "192.168.0.50" },
    { subnet_id = "d0000000-0000-4000-8000-000000000002" },
  ]

  # The database must outlive a mistake: terraform destroy, any change that
  # replaces it and a change of image_id (which reinstalls the system disk)
  # fail until this is set to false and applied.
  deletion_protection = true

  timeouts {
    create = "45m"
    delete = "45m"
  }
}
