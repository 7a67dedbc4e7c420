# Terraform 1.12 and later: import by identity. project_id may be left out;
# it defaults to the provider's, and must be the provider's when given.
import {
  to = clouddc_instance.web
  identity = {
    id = "2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d"
  }
}
