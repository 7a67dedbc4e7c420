# The endpoint, project and token come from the environment:
#   export CLOUDDC_ENDPOINT=https://clouddc.cn-east-3.myhuaweicloud.com
#   export CLOUDDC_PROJECT_ID=<your IAM project ID>
#   export CLOUDDC_TOKEN=<an IAM token>
# Arguments in the block win over the variables; keep the token out of it.
provider "clouddc" {
  # Stay under the account's API quota, whatever -parallelism says.
  max_requests_per_second = 20
  # Retry rate limits, server errors and network errors up to 10 times.
  max_retries = 10
}
