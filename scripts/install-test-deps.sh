#!/usr/bin/env bash
# Installs everything the integration tests need to start their own servers
# on 127.0.0.1: Dovecot (IMAP), aiosmtpd (SMTP), isync (mbsync, benchmark),
# openssl (test certificates), PostgreSQL (database `test`, trust auth; its
# server binaries also run the TLS tests' own clusters), util-linux (setpriv,
# which starts those as senimtest), Chromium and its WebDriver (the console's
# browser tests, headless) with a font for Cyrillic, poppler-utils (pdftotext,
# pdftoppm: the cover letter's PDF read as text and as a picture) and the
# Python `holidays` module.
# Idempotent and non-interactive: safe to run on every CI start.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

AIOSMTPD_VERSION="1.4.6"
HOLIDAYS_VERSION="0.109"
# Non-root system user that runs the test Dovecot's mail processes and the TLS
# tests' PostgreSQL clusters when the tests run as root (Dovecot refuses to
# access mail as uid 0, PostgreSQL to run as root).
MAIL_USER="senimtest"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    # sudo drops the environment: pass DEBIAN_FRONTEND on explicitly.
    SUDO="sudo env DEBIAN_FRONTEND=noninteractive"
fi

log() { printf '==> %s\n' "$*"; }

apt_install() {
    $SUDO apt-get install -y -q --no-install-recommends "$@"
}

install_debian_packages() {
    log "apt-get update"
    $SUDO apt-get update -q
    log "installing dovecot-imapd, isync, openssl, procps (kill), binutils (strings), systemd (systemd-analyze), util-linux (setpriv), wrk, chromium, chromium-driver, poppler-utils (pdftotext, pdftoppm)"
    # policy-rc.d exit 101 keeps the package scripts from starting the
    # system-wide dovecot (it would bind 143/993); the tests never use it.
    with_services_blocked apt_install dovecot-imapd isync openssl ca-certificates procps binutils systemd util-linux wrk \
        chromium chromium-driver fonts-dejavu-core poppler-utils
}

# Runs "$@" with invoke-rc.d blocked from starting services, restoring any
# policy-rc.d that was there before.
with_services_blocked() {
    local policy=/usr/sbin/policy-rc.d backup=""
    if [ -e "$policy" ]; then
        backup="$(mktemp)"
        $SUDO cp -p "$policy" "$backup"
    fi
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    local status=0
    "$@" || status=$?
    if [ -n "$backup" ]; then
        $SUDO mv "$backup" "$policy"
    else
        $SUDO rm -f "$policy"
    fi
    return "$status"
}

# The system-wide dovecot is not used by the tests; make sure it is not
# running (e.g. started by an earlier install) and will not start at boot.
stop_system_dovecot() {
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
    fi
    if [ -s /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
        log "stopping the system-wide dovecot"
        $SUDO dovecot stop >/dev/null 2>&1 || true
    fi
}

create_mail_user() {
    if id -u "$MAIL_USER" >/dev/null 2>&1; then
        return
    fi
    log "creating system user $MAIL_USER"
    $SUDO useradd --system --user-group --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin "$MAIL_USER"
}

# pip for the python3 that is first on PATH (the tests run that one).
pip_install() {
    local -a flags=(--disable-pip-version-check --no-input -q --root-user-action=ignore)
    if python3 - <<'PY'
import os, sys, sysconfig
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
in_venv = sys.prefix != sys.base_prefix
sys.exit(0 if os.path.exists(marker) and not in_venv else 1)
PY
    then
        flags+=(--break-system-packages)
    fi
    python3 -m pip install "${flags[@]}" "$@"
}

# True if python3 can import module $1 at exactly version $2.
python_has() {
    python3 - "$1" "$2" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
PY
}

install_python_packages() {
    log "python3 is $(command -v python3) ($(python3 --version 2>&1))"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        log "pip missing: installing python3-pip"
        apt_install python3-pip
    fi
    local spec name version
    for spec in "aiosmtpd==$AIOSMTPD_VERSION" "holidays==$HOLIDAYS_VERSION"; do
        name="${spec%%==*}"
        version="${spec##*==}"
        if python_has "$name" "$version"; then
            log "$spec already installed"
        else
            log "pip install $spec"
            pip_install "$spec"
        fi
    done
}

postgres_version() {
    [ -d /etc/postgresql ] || return 0
    find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null |
        sort -V | tail -n 1
}

ensure_postgres() {
    if [ -z "$(postgres_version)" ]; then
        log "installing postgresql"
        with_services_blocked apt_install postgresql
    fi
    local ver hba
    ver="$(postgres_version)"
    hba="/etc/postgresql/$ver/main/pg_hba.conf"
    if ! $SUDO grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        log "setting trust auth for 127.0.0.1 in $hba"
        # First matching line wins in pg_hba.conf: put ours on top.
        $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
        if pg_lsclusters -h "$ver" main 2>/dev/null | grep -q online; then
            $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
        fi
    fi
    if ! pg_lsclusters -h "$ver" main 2>/dev/null | grep -q online; then
        log "starting PostgreSQL $ver"
        $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    fi
    wait_for_postgres
    if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
        log "creating database test"
        psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test'
    fi
}

wait_for_postgres() {
    local _
    for _ in $(seq 1 60); do
        if psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
            return
        fi
        sleep 0.5
    done
    echo "PostgreSQL did not accept connections on 127.0.0.1:5432" >&2
    exit 1
}

main() {
    install_debian_packages
    stop_system_dovecot
    create_mail_user
    install_python_packages
    ensure_postgres
    log "test dependencies ready"
}

main "$@"
