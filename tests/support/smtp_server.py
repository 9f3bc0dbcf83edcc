#!/usr/bin/env python3
"""SMTP server for Senim's integration tests, started by tests/support/smtp.rs.

Listens on one loopback address with aiosmtpd and writes every accepted
message to SPOOL/NNNNNN.eml (written to a temporary name, then renamed):

    FROM <envelope sender>
    RCPT <recipient>        (one line per accepted recipient)
    AUTH <login>            (only if the client authenticated)
    <empty line>
    <message data, exactly as received after dot-unstuffing>

The Rust side runs it in its own process group and kills the group to stop
it (see tests/support/process.rs).
"""

import argparse
import asyncio
import logging
import os
import ssl
import sys
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError as error:
    sys.stderr.write(
        f"aiosmtpd is not installed for {sys.executable} ({error}): "
        "run scripts/install-test-deps.sh\n"
    )
    sys.exit(3)

SPOOL_SUFFIX = ".eml"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", required=True)
    parser.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    parser.add_argument("--cert", help="server certificate (PEM)")
    parser.add_argument("--key", help="server private key (PEM)")
    parser.add_argument("--auth-user", help="require AUTH PLAIN/LOGIN as this user")
    parser.add_argument("--auth-password", default="")
    parser.add_argument("--reject-permanent", action="append", default=[],
                        help="recipient answered with 550")
    parser.add_argument("--reject-temporary", action="append", default=[],
                        help="recipient answered with 451")
    parser.add_argument("--stall-data", metavar="MARKER",
                        help="never answer DATA; create the file MARKER when it arrives")
    return parser.parse_args()


def next_sequence(spool):
    """First free spool number, so a restarted server appends after the old files."""
    numbers = [int(name[:-len(SPOOL_SUFFIX)]) for name in os.listdir(spool)
               if name.endswith(SPOOL_SUFFIX) and name[:-len(SPOOL_SUFFIX)].isdigit()]
    return max(numbers, default=0) + 1


class SpoolHandler:
    """Accepts, rejects or spools recipients and messages."""

    def __init__(self, spool, reject_permanent, reject_temporary, stall_marker=None):
        self.spool = spool
        self.stall_marker = stall_marker
        self.reject_permanent = {address.lower() for address in reject_permanent}
        self.reject_temporary = {address.lower() for address in reject_temporary}
        self.sequence = next_sequence(spool)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject_permanent:
            return f"550 5.1.1 <{address}>: recipient rejected (test: permanent)"
        if address.lower() in self.reject_temporary:
            return f"451 4.3.0 <{address}>: try again later (test: temporary)"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stall_marker:
            # A server that takes the message and never answers (a client that
            # hangs up gets nothing spooled).
            with open(self.stall_marker, "w") as marker:
                marker.write("DATA received\n")
            await asyncio.Event().wait()
        # aiosmtpd gives the null sender as "<>"; the spool records it empty.
        mail_from = "" if envelope.mail_from == "<>" else envelope.mail_from
        header = [f"FROM {mail_from}"]
        header += [f"RCPT {rcpt}" for rcpt in envelope.rcpt_tos]
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            header.append(f"AUTH {session.auth_data.login.decode('utf-8', 'replace')}")
        record = ("\n".join(header) + "\n\n").encode() + envelope.original_content
        name = f"{self.sequence:06d}{SPOOL_SUFFIX}"
        self.sequence += 1
        temporary = os.path.join(self.spool, f".{name}.tmp")
        with open(temporary, "wb") as spool_file:
            spool_file.write(record)
        os.replace(temporary, os.path.join(self.spool, name))
        return f"250 2.0.0 OK queued as {name}"


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        # handled=False: on failure aiosmtpd itself answers 535.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


def tls_context(args):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    return context


def smtp_factory(args, handler):
    """Builds the per-connection aiosmtpd.SMTP factory for the chosen mode."""
    kwargs = {"hostname": "senim-test-smtp", "ident": "Senim test SMTP"}
    if args.mode == "starttls":
        kwargs.update(tls_context=tls_context(args), require_starttls=True)
    if args.auth_user is not None:
        kwargs.update(
            authenticator=make_authenticator(args.auth_user, args.auth_password),
            auth_required=True,
            # aiosmtpd only knows of TLS it negotiated itself (STARTTLS); on
            # the implicit-TLS and plain ports AUTH must be allowed as is.
            auth_require_tls=args.mode == "starttls",
        )
    return lambda: SMTP(handler, **kwargs)


async def serve(args):
    os.makedirs(args.spool, exist_ok=True)
    handler = SpoolHandler(args.spool, args.reject_permanent, args.reject_temporary,
                           args.stall_data)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        smtp_factory(args, handler),
        host=args.host,
        port=args.port,
        ssl=tls_context(args) if args.mode == "tls" else None,
        reuse_address=True,
    )
    logging.info("listening on %s:%d (%s)", args.host, args.port, args.mode)
    await server.serve_forever()


def main():
    args = parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Plain-text AUTH on loopback is what the tests ask for.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
