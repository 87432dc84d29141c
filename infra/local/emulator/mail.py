"""Sent mail, readable (moto keeps what SES sent and offers no API for it).

`GET /_emulator/ses/sent` answers every message SES (v1 or v2) sent, `[{from, to, subject,
body}]`, oldest first; the tests read the mail the API sent there, as they read codes from moto's
response headers. Sending itself is moto's: the sender must be a verified identity (an address,
or its domain), else `MessageRejected`.

Not as Cognito/SES: nothing is delivered; Cognito's own messages (codes, invitations) are not
among the mail (see `contact` and `factors` for where their codes are read).
"""
import json

from moto.ses.models import ses_backends

from .common import SERIAL

SENT_MAIL_PATH = "/_emulator/ses/sent"


def sent_mail(environ, start_response):
    """The WSGI handler of `SENT_MAIL_PATH`."""
    with SERIAL:
        out = [
            {"from": m.source, "to": (m.destinations or {}).get("ToAddresses", []) if isinstance(m.destinations, dict) else m.destinations,
             "subject": m.subject, "body": m.body}
            for regions in ses_backends.values()
            for backend in regions.values()
            for m in backend.sent_messages
            if hasattr(m, "subject")
        ]
    start_response("200 OK", [("content-type", "application/json")])
    return [json.dumps(out).encode()]


def install(settings):
    """Patches nothing: answers the route the server serves the mail at."""
    return SENT_MAIL_PATH, sent_mail
