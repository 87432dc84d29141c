#!/usr/bin/env python3
"""A TLS endpoint in front of the local emulator, for what plain HTTP cannot show: the
functions' first HTTPS connection (handshake, certificate verification) and that their
transport refuses a certificate it has no root for.

At start it makes a certificate authority and a server certificate for 127.0.0.1 and
localhost (ECDSA P-256, valid for a day), writes the authority's certificate to --ca-out,
then serves HTTPS on 127.0.0.1:--port, keeping client connections alive as AWS endpoints do,
and forwards each request to --upstream over plain HTTP. Listens on loopback only; stop it by
its pid.

With --delay-ms, every request waits that long in its connection's own thread before it is
forwarded: a stand-in for a service's latency, waited in parallel by concurrent requests as a
remote service serves them (the emulator itself serves one request at a time). With
--connect-delay-ms, every new connection waits that long before its TLS handshake: a stand-in
for the round trips a connection costs over a real network (loopback has none). The benchmark
uses both to weigh one TLS connection against two for two concurrent calls.

    tls_proxy.py --port 5443 --upstream 127.0.0.1:5000 --ca-out .local/tls/ca.pem \
        [--delay-ms 4 --connect-delay-ms 1]
"""

import argparse
import datetime
import http.client
import http.server
import ipaddress
import math
import os
import socket
import ssl
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(ca_out):
    """The authority's certificate goes to ca_out; the server's chain and key to a private
    temporary directory, whose paths are returned."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("account-api local test CA"))
        .issuer_name(name("account-api local test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    os.makedirs(os.path.dirname(os.path.abspath(ca_out)), exist_ok=True)
    with open(ca_out, "wb") as f:
        f.write(ca.public_bytes(pem))
    private = tempfile.mkdtemp(prefix="tls-proxy-")
    chain, key_path = os.path.join(private, "chain.pem"), os.path.join(private, "key.pem")
    with open(chain, "wb") as f:
        f.write(server.public_bytes(pem) + ca.public_bytes(pem))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    return chain, key_path


class Relay(http.server.BaseHTTPRequestHandler):
    """One client connection, kept alive as a real endpoint keeps it (HTTP/1.1), each
    request forwarded on its own upstream connection (the emulator closes them)."""

    protocol_version = "HTTP/1.1"
    # small TLS records and answers must not wait for delayed ACKs
    disable_nagle_algorithm = True
    upstream = None
    delay = 0.0

    def forward(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        if self.delay:
            time.sleep(self.delay)
        hop = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        except OSError:
            self.send_error(502)
            return
        finally:
            conn.close()
        self.send_response_only(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in hop | {"content-length"}:
                self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = forward

    def log_message(self, *args):
        pass


class TlsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, context, connect_delay=0.0):
        self.context = context
        self.connect_delay = connect_delay
        super().__init__(address, Relay)

    def finish_request(self, request, client_address):
        # the handshake happens in the connection's own thread, not in the accept loop
        if self.connect_delay:
            time.sleep(self.connect_delay)
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            # a client that refuses our certificate ends here: one of the things tested
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="host:port of the emulator")
    parser.add_argument("--ca-out", required=True, help="where to write the CA certificate (PEM)")
    parser.add_argument(
        "--delay-ms", type=float, default=0.0,
        help="wait this long before forwarding each request (a service's latency)",
    )
    parser.add_argument(
        "--connect-delay-ms", type=float, default=0.0,
        help="wait this long before each new connection's handshake (a network's round trips)",
    )
    args = parser.parse_args()
    for flag, value in (("--delay-ms", args.delay_ms), ("--connect-delay-ms", args.connect_delay_ms)):
        if not math.isfinite(value) or value < 0:
            parser.error(f"{flag} must be a finite number of milliseconds, not negative")
    host, port = args.upstream.rsplit(":", 1)
    upstream_addr = (host, int(port))

    chain, key = make_certificates(args.ca_out)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(chain, key)

    Relay.upstream = upstream_addr
    Relay.delay = args.delay_ms / 1000
    server = TlsServer(("127.0.0.1", args.port), context, args.connect_delay_ms / 1000)
    delay = f", {args.delay_ms:g} ms added to each request" if args.delay_ms else ""
    if args.connect_delay_ms:
        delay += f", {args.connect_delay_ms:g} ms before each handshake"
    print(f"tls proxy on 127.0.0.1:{args.port} -> {args.upstream}, CA {args.ca_out}{delay}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
