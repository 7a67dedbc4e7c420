terraform {
  required_providers {
    clouddc = {
      source = "clouddc-tf/clouddc"
    }
  }
}

# The region, credentials and (optionally) the project come from the
# environment: CLOUDDC_* variables, or else the huaweicloud provider's HW_*
# ones, so a shell set up for the huaweicloud provider works as it is:
#   export HW_REGION_NAME=cn-east-3   # the endpoint follows from the region
#   export HW_ACCESS_KEY=<AK>         # sign requests with an access key pair
#   export HW_SECRET_KEY=<SK>
#   # optional: export HW_PROJECT_ID=<ID>; else the project named after the
#   # region is looked up in IAM
# Arguments in the block win over the variables; keep secrets out of it.
provider "clouddc" {
  # Stay under the account's API quota, whatever -parallelism says.
  max_requests_per_second = 20
  # Retry rate limits, server errors and network errors up to 10 times.
  max_retries = 10
}
