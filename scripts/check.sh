#!/usr/bin/env bash
# The local gate before a commit: formatting, lints (warnings are errors) and every test, in debug.
# CI runs the same steps with the tests in release (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# A test that skips (a missing tool, an unreachable registry) records why in target/tmp/skipped-tests.txt
# (tests/common::skip); the list is printed last, so a skip never passes for a pass.
skips=target/tmp/skipped-tests.txt
rm -f "$skips"
status=0
cargo fmt --check && cargo clippy --all-targets -- -D warnings && cargo test || status=$?
if [[ -s $skips ]]; then
    echo "skipped tests ($(wc -l <"$skips")):"
    cat "$skips"
fi
exit "$status"
