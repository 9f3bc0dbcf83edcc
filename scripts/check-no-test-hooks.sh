#!/usr/bin/env bash
# The daemon as it ships (`cargo build`, without the dev-dependencies that turn on
# the `test-hooks` feature) must hold no test hook: no moved clock, no crash point.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --bin senim
binary=target/debug/senim
if strings "$binary" | grep -E 'TEST_SENIM_[A-Z_]+'; then
    echo "error: $binary contains a test hook (above): it must be built only with the test-hooks feature" >&2
    exit 1
fi
echo "no test hook in $binary"
