# Import an instance by its ID. The API never returns the password, so the
# first apply after the import sets the configured one (ChangeInstancePassword).
terraform import clouddc_instance.web 2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d
