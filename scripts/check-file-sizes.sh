#!/usr/bin/env bash
# Fails when a file git tracks (as staged in the index, so what the next
# commit will hold) is over the limit: build outputs belong in ./bin, dist/
# or tmp/, which .gitignore keeps out, and a clone should stay small.
set -euo pipefail
cd "$(dirname "$0")/.."
max=${MAX_TRACKED_FILE_BYTES:-1048576}
big=$(git ls-files --format='%(objectname) %(path)' |
	git cat-file --batch-check='%(objectsize) %(rest)' |
	awk -v max="$max" '$1 > max')
if [[ -n "$big" ]]; then
	echo "Tracked files over $max bytes (size, path):" >&2
	echo "$big" >&2
	echo "Build outputs go in ./bin, dist/ or tmp/ (ignored by git); remove these with 'git rm --cached'." >&2
	exit 1
fi
echo "==> No tracked file is over $max bytes"
