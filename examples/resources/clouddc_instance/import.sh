# Import an instance by its ID. The password cannot be read back from the
# API; the configured one is adopted without replacing the instance.
terraform import clouddc_instance.web 2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d
