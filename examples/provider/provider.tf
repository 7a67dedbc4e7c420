terraform {
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

# The endpoint, project and credentials come from the environment, from
# CLOUDDC_* variables or else from the HuaweiCloud provider's HW_* ones:
#   export CLOUDDC_REGION=cn-east-3           # or CLOUDDC_ENDPOINT=https://clouddc.cn-east-3.myhuaweicloud.com
#   export CLOUDDC_PROJECT_ID=<your IAM project ID>
#   export CLOUDDC_ACCESS_KEY=<AK>            # sign requests with an access key pair,
#   export CLOUDDC_SECRET_KEY=<SK>
#   # or: export CLOUDDC_TOKEN=<an IAM token>
# Arguments in the block win over the variables; keep secrets out of it.
provider "clouddc" {
  # Stay under the account's API quota, whatever -parallelism says.
  max_requests_per_second = 20
  # Retry rate limits, server errors and network errors up to 10 times.
  max_retries = 10
}
