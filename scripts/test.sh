#!/usr/bin/env bash
# Runs Senim's whole test suite on a fresh Debian machine: installs and starts what
# the tests need (Dovecot, aiosmtpd, PostgreSQL, the Python `holidays` package, ...),
# then runs every test with the locked dependency versions.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --no-fail-fast -- --test-threads=4
# Last, since it rebuilds the binary without the tests' hooks in the same place.
bash scripts/check-no-test-hooks.sh
