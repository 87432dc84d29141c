#!/usr/bin/env python3
"""A TLS endpoint in front of the local emulator, for what plain HTTP cannot show: the
functions' first HTTPS connection (handshake, certificate verification) and that their
transport refuses a certificate it has no root for.

At start it makes a certificate authority and a server certificate for 127.0.0.1 and
localhost (ECDSA P-256, valid for a day), writes the authority's certificate to --ca-out,
then accepts TLS connections on 127.0.0.1:--port and relays each, decrypted, to --upstream.
Listens on loopback only; stop it by its pid.

    tls_proxy.py --port 5443 --upstream 127.0.0.1:5000 --ca-out .local/tls/ca.pem
"""

import argparse
import datetime
import ipaddress
import os
import select
import socket
import ssl
import tempfile
import threading

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


def relay(client, upstream_addr):
    try:
        upstream = socket.create_connection(upstream_addr, timeout=30)
    except OSError:
        client.close()
        return
    sockets = [client, upstream]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, 60)
            if broken or not readable:
                return
            for s in readable:
                other = upstream if s is client else client
                data = s.recv(65536)
                if not data:
                    return
                other.sendall(data)
                # TLS may hold more decrypted bytes than select can see
                while s is client and client.pending():
                    other.sendall(client.recv(client.pending()))
    except (OSError, ssl.SSLError):
        return
    finally:
        for s in sockets:
            try:
                s.close()
            except OSError:
                pass


def handshake_then_relay(context, raw, upstream_addr):
    try:
        raw.settimeout(30)
        client = context.wrap_socket(raw, server_side=True)
        client.settimeout(None)
    except (OSError, ssl.SSLError):
        # a client that refuses our certificate ends here: that is one of the things tested
        raw.close()
        return
    relay(client, upstream_addr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="host:port of the emulator")
    parser.add_argument("--ca-out", required=True, help="where to write the CA certificate (PEM)")
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    upstream_addr = (host, int(port))

    chain, key = make_certificates(args.ca_out)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(chain, key)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    print(f"tls proxy on 127.0.0.1:{args.port} -> {args.upstream}, CA {args.ca_out}", flush=True)
    while True:
        raw, _ = listener.accept()
        threading.Thread(
            target=handshake_then_relay, args=(context, raw, upstream_addr), daemon=True
        ).start()


if __name__ == "__main__":
    main()
