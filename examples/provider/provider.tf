# Configure the provider from the environment (recommended):
#   export CLOUDDC_ENDPOINT=https://clouddc.cn-east-3.myhuaweicloud.com
#   export CLOUDDC_PROJECT_ID=<your IAM project ID>
#   export CLOUDDC_TOKEN=<an IAM token>
provider "clouddc" {}

# Or set the endpoint and project explicitly; keep the token in the environment.
provider "clouddc" {
  alias      = "east"
  endpoint   = "https://clouddc.cn-east-3.myhuaweicloud.com"
  project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
}
