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
