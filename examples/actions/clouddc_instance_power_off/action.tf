# Power off the server under web-1, on demand:
#   terraform apply -invoke=action.clouddc_instance_power_off.web
# Leave power_state unset on clouddc_instance.web, or the next plan powers
# it back on.
action "clouddc_instance_power_off" "web" {
  config {
    instance_id = clouddc_instance.web.id

    timeouts {
      invoke = "15m"
    }
  }
}
