"""A real SMTP server for portalctl's tests: aiosmtpd, storing each message it accepts.

    python tests/support/mail_sink.py DIR [--user USER --password PASSWORD]
        [--tls starttls|implicit --cert CERT.pem --key KEY.pem]

Listens on 127.0.0.1 on a free port and prints `listening on 127.0.0.1:PORT` once it
does. Each accepted message is written to DIR as `NNNNNN.json` (atomically: a temporary
file renamed), with the envelope and the decoded parts:
`{"mail_from", "rcpt_tos", "from", "to", "subject", "message_id", "text", "html", "login"}`.

While a file `DIR/refuse` exists, every message is refused with a transient `451`, so a
test can make the server fail and then recover. With `--user`, AUTH (PLAIN, LOGIN) is
offered on the plain connection and required; a wrong password is refused with `535`.
With `--tls starttls`, STARTTLS is offered and required before anything else (AUTH
included); with `--tls implicit`, the connection is TLS from its first byte (`smtps`).
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.directory, "refuse")):
            return "451 4.3.0 Try again later (the test asked to refuse)"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "login": login,
        }
        name = "%06d-%d" % (next(self.counter), os.getpid())
        temporary = os.path.join(self.directory, name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.rename(temporary, os.path.join(self.directory, name + ".json"))
        return "250 2.0.0 OK"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    sink = Sink(args.directory)
    context = None
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def factory():
        options = {}
        if args.user:
            options.update(
                authenticator=authenticator_for(args.user, args.password or ""),
                auth_required=True,
                auth_require_tls=args.tls == "starttls",
            )
        if args.tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        return SMTP(sink, **options)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=context if args.tls == "implicit" else None
    )
    port = server.sockets[0].getsockname()[1]
    print("listening on 127.0.0.1:%d" % port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
