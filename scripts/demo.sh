#!/usr/bin/env bash
# The demo behind `make demo`: start the CloudDC simulator on loopback, apply
# examples/demo with the freshly built provider, show the instance, destroy
# it, and stop the simulator however the run ends.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
terraform=${TERRAFORM:-terraform}
work=$(mktemp -d "${TMPDIR:-/tmp}/clouddc-demo.XXXXXX")
sim_pid=""

cleanup() {
	status=$?
	if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
	if [[ $status -ne 0 ]]; then
		echo "demo: failed (exit $status); the simulator has been stopped" >&2
	fi
	exit $status
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Starting the CloudDC simulator (installs take 8s, deletions 6s)"
"$bin/clouddc-simulator" -listen 127.0.0.1:0 -endpoint-file "$work/endpoint" \
	-create-duration 8s -delete-duration 6s > >(sed -u 's/^/  [simulator] /') 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
	[[ -s "$work/endpoint" ]] && break
	sleep 0.1
done
[[ -s "$work/endpoint" ]] || { echo "demo: the simulator did not start" >&2; exit 1; }

# Our own CLI configuration: dev_overrides points Terraform at the provider
# we just built, and nothing is read from the user's ~/.terraformrc.
cat >"$work/terraform.rc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/clouddc-tf/clouddc" = "$bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraform.rc"
export CLOUDDC_ENDPOINT
CLOUDDC_ENDPOINT=$(cat "$work/endpoint")
export CLOUDDC_PROJECT_ID=0a1b2c3d4e5f60718293a4b5c6d7e8f9
export CLOUDDC_TOKEN=clouddc-simulator-token
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

mkdir "$work/config"
cp "$root/examples/demo/main.tf" "$work/config/"
tf() { "$terraform" -chdir="$work/config" "$@"; }

step "terraform apply: the instance goes from pending to running"
tf apply -auto-approve -input=false

step "terraform state show: the instance as Terraform knows it"
tf state show clouddc_instance.web

step "terraform destroy: the instance goes from shutting-down to terminated"
tf destroy -auto-approve -input=false

step "Done: the instance was created, shown and destroyed against the simulator"
