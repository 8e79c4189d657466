#!/usr/bin/env bash
# The local gate before a commit: formatting, lints (warnings are errors) and every test, in debug.
# CI runs the same steps with the tests in release (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check && cargo clippy --all-targets -- -D warnings && cargo test
