terraform {
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

# Every running instance whose name starts with "web-", across all pages.
data "clouddc_instances" "web" {
  state      = "running"
  name_regex = "^web-"
}

output "web_ids" {
  value = data.clouddc_instances.web.ids
}
