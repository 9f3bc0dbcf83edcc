#!/usr/bin/env bash
# The soak benchmark: the release daemon on SQLite with 30,000 appeals already in
# the Journal and every background task running (scheduler, digests, the sender
# with a real SMTP server, the mailbox poller on a real Dovecot), PBX posts at
# 200/s for [minutes] (default 10). Prints p50/p99/max, failures (must be 0) and
# the daemon's RSS every minute, and the RSS after the load.
# Needs scripts/install-test-deps.sh. SOAK_PRELOAD and SOAK_RATE override the
# 30,000 and the 200/s.
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_MINUTES=${1:-10} cargo test --release --locked --test soak_bench -- --ignored --nocapture 2>&1 \
    | grep -E '^(idle|preloaded|minute|soak:|mail delivered|errors logged)|panicked|FAILED|test result'
