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
