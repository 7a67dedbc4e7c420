# Terraform 1.5 and later, and OpenTofu: import by the instance's ID.
import {
  to = clouddc_instance.web
  id = "2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d"
}
