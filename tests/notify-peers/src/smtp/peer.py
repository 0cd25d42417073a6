"""A real SMTP server for the notifier's tests: aiosmtpd, with STARTTLS,
implicit TLS or none, optional AUTH PLAIN/LOGIN, writing every accepted
message (envelope and raw data) as JSON into a directory.

Recipients named reject5xx@... are refused with 550, busy4xx@... with 451,
so a test can see how the client classifies them.

Usage: peer.py DIR PORT TLS(none|starttls|implicit) [CERT KEY] [USER PASS]
"""
import asyncio
import json
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

out_dir, port, tls = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rest = sys.argv[4:]
cert = key = None
if tls != "none":
    cert, key, rest = rest[0], rest[1], rest[2:]
user = password = None
if rest:
    user, password = rest[0].encode(), rest[1].encode()


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local == "reject5xx":
            return "550 5.1.1 No such user here"
        if local == "busy4xx":
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": envelope.original_content.decode("utf-8", "replace"),
            # Under implicit TLS the server takes nothing else.
            "tls": session.ssl is not None or tls == "implicit",
            "auth_user": getattr(session, "peer_user", None),
        }
        name = "%d-%d.json" % (time.time_ns(), os.getpid())
        tmp = os.path.join(out_dir, name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(out_dir, name))
        return "250 2.0.0 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = user is not None and auth_data.login == user and auth_data.password == password
    if ok:
        session.peer_user = user.decode()
    return AuthResult(success=ok, handled=False)


def context():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


kwargs = {}
if user is not None:
    kwargs.update(authenticator=authenticator, auth_required=True,
                  auth_require_tls=(tls != "none"))
if tls == "starttls":
    kwargs.update(tls_context=context(), require_starttls=True)
elif tls == "implicit":
    kwargs.update(ssl_context=context())

controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
controller.start()
with open(os.path.join(out_dir, "ready"), "w") as f:
    f.write("ready")

loop = asyncio.new_event_loop()
stop = asyncio.Event()
for s in (signal.SIGTERM, signal.SIGINT):
    loop.add_signal_handler(s, stop.set)


def watch_stdin():
    # The test holds our stdin open; when it goes away, so do we.
    sys.stdin.buffer.read()
    loop.call_soon_threadsafe(stop.set)


threading.Thread(target=watch_stdin, daemon=True).start()
loop.run_until_complete(stop.wait())
controller.stop()
