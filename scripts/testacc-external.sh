#!/usr/bin/env bash
# make testacc-external: the acceptance tests against an external endpoint,
# the way a maintainer runs them on a real account (CONTRIBUTING.md). The
# account is the simulator binary, started as a separate process without
# its admin API, so the tests can only do what they could do on an account;
# the tests that need the in-process simulator skip themselves. Then the
# sweeper runs as its own process, between a test that leaves an instance
# with the test prefix and one without it, and a test that checks that only
# the first was deleted.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
work=$(mktemp -d "${TMPDIR:-/tmp}/clouddc-acc-external.XXXXXX")
sim_pid=""

cleanup() {
	status=$?
	if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
	exit $status
}
trap cleanup EXIT INT TERM

ak=ACCEXTERNALTESTKEY01
sk=acc-external-Secr3t-Key
"$go" build -o "$work/clouddc-simulator" "$root/cmd/clouddc-simulator"
"$work/clouddc-simulator" -listen 127.0.0.1:0 -endpoint-file "$work/endpoint" -quiet \
	-access-key "$ak" -secret-key "$sk" -region cn-east-3 -servers 6 \
	-create-duration 1s -delete-duration 1s -reinstall-duration 1s -modify-ip-duration 500ms -power-duration 500ms \
	-retention 10m >"$work/simulator.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
	[[ -s "$work/endpoint" ]] && break
	sleep 0.1
done
[[ -s "$work/endpoint" ]] || { echo "testacc-external: the simulator did not start:" >&2; cat "$work/simulator.log" >&2; exit 1; }
endpoint=$(cat "$work/endpoint")

# What CONTRIBUTING.md asks of a real account, pointed at the simulator.
export CLOUDDC_ACC_ENDPOINT="$endpoint" CLOUDDC_ACC_IAM_ENDPOINT="$endpoint" CLOUDDC_ACC_REGION=cn-east-3
export CLOUDDC_ACC_PROJECT_ID=0a1b2c3d4e5f60718293a4b5c6d7e8f9
export CLOUDDC_ACC_ACCESS_KEY="$ak" CLOUDDC_ACC_SECRET_KEY="$sk"
export CLOUDDC_ACC_IMAGE_ID=b0000000-0000-4000-8000-000000000001
export CLOUDDC_ACC_VPC_ID=c0000000-0000-4000-8000-000000000001
export CLOUDDC_ACC_SUBNET_ID=d0000000-0000-4000-8000-000000000001
export CLOUDDC_ACC_POLL_INTERVAL=200ms
export TF_ACC=1 TF_ACC_TERRAFORM_VERSION=

pkg=./internal/provider/
# run NAME ARGS...: go test with ARGS; on success the verdicts only, on
# failure the whole output.
run() {
	local log="$work/$1.log"
	shift
	if (cd "$root" && "$go" test "$pkg" -count=1 -v "$@") >"$log" 2>&1; then
		grep -E '^(--- PASS|--- FAIL|ok|FAIL)' "$log" || true
		local skipped
		skipped=$(grep -c -- '--- SKIP' "$log" || true)
		if [[ "$skipped" -gt 0 ]]; then
			echo "($skipped tests skipped themselves: they need the in-process simulator)"
		fi
	else
		cat "$log"
		echo "testacc-external: go test $* failed" >&2
		return 1
	fi
}

echo "--> The acceptance tests against $endpoint, as if it were an account"
run suite -timeout 20m -run 'TestAcc'
echo "--> An instance with the test prefix left behind, and one without it"
CLOUDDC_ACC_SWEEP_CHECK="$work/seeded" run seed -timeout 10m -run '^TestAccSweep_seed$'
echo "--> The sweeper"
run sweep -timeout 20m -sweep=all
grep -E 'sweeper: deleted' "$work/sweep.log" || true
echo "--> Only the instance with the prefix was swept"
CLOUDDC_ACC_SWEEP_CHECK="$work/seeded" run check -timeout 10m -run '^TestAccSweep_check$'
