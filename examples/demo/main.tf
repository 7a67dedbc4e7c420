# The configuration `make demo` applies against the local CloudDC simulator.
# The provider reads its endpoint, project ID and token from the
# CLOUDDC_ENDPOINT, CLOUDDC_PROJECT_ID and CLOUDDC_TOKEN environment variables.

terraform {
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

provider "clouddc" {}

variable "password" {
  type      = string
  sensitive = true
  default   = "Demo-Passw0rd"
}

resource "clouddc_instance" "web" {
  name     = "demo-web-1"
  image_id = "b0000000-0000-4000-8000-000000000001" # Ubuntu 22.04 in the simulator's catalogue
  vpc_id   = "c0000000-0000-4000-8000-000000000001"
  password = var.password

  network_interfaces = [
    { subnet_id = "d0000000-0000-4000-8000-000000000001" },
  ]

  metadata = {
    team = "platform"
  }
  description = "Created by make demo"
}

output "instance" {
  value = {
    id         = clouddc_instance.web.id
    state      = clouddc_instance.web.state
    server_id  = clouddc_instance.web.server_id
    ipv4       = clouddc_instance.web.network_interfaces[0].ipv4_address
    image_name = clouddc_instance.web.image_name
  }
}
