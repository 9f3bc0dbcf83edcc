#!/usr/bin/env bash
# The mailbox ingest benchmark: a local Dovecot (the test harness's, on loopback
# with TLS) loaded with 5,000 realistic messages; prints the time mbsync (Debian
# isync) takes to copy the INBOX to a local Maildir and the messages/s Senim
# ingests from it, in the same run. Needs scripts/install-test-deps.sh.
# BENCH_MAILBOX_MESSAGES overrides the count.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mbsync >/dev/null || { echo "mbsync missing: apt-get install isync" >&2; exit 1; }
cargo test --release --test mailbox_bench -- --ignored --nocapture 2>&1 | grep -E '^(loaded|mbsync:|senim:)|panicked|FAILED'
