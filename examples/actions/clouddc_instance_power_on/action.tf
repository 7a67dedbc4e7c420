# Power the server under web-1 back on:
#   terraform apply -invoke=action.clouddc_instance_power_on.web
action "clouddc_instance_power_on" "web" {
  config {
    instance_id = clouddc_instance.web.id
  }
}
