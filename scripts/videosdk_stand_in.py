"""VideoSDK's API as the release binaries call it, over HTTPS on 127.0.0.1, for the scripts that
run them outside the Rust tests: scripts/check-lambda-rie.py (the webhook function's key fetched
at cold start) and scripts/bench-coldstart (that cold start, and the meeting functions' round
trips to VideoSDK).

Its certificate comes from a CA made here, which the functions trust only through the test-only
TEST_ONLY_EXTRA_CA_FILE (shared/src/tls.rs). It answers what the functions ask:
  - GET /v2/public/rsa-public-key: the webhook public key it was given, as {"publicKey": PEM};
  - POST /v2/rooms: a new room; GET /v2/rooms/validate/{id}: that id as a valid room (no token
    is checked: tests/src/videosdk_stand_in.rs is the faithful stand-in, for the Rust tests);
  - HEAD of anything (the meeting backend's connection warm-up): 200, no body.

It can add a fixed delay for each round trip it sees, as a distant server would: before the TLS
handshake of each new connection, and before each answer (StandIn.delay_seconds, which the caller
may change between runs). It records each connection and each
request with the time it arrived (time.monotonic_ns), so a caller can tell which fell where.
"""

import datetime
import http.server
import ipaddress
import itertools
import json
import ssl
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

WEBHOOK_PUBLIC_KEY_PATH = "/v2/public/rsa-public-key"
ROOMS_PATH = "/v2/rooms"
VALIDATE_PREFIX = "/v2/rooms/validate/"


def make_test_ca(work: Path) -> tuple:
    """A CA and a certificate for 127.0.0.1 it signed, ECDSA P-256, valid for an hour, written
    to `work`; returns the paths of the CA's certificate, the server's and the server's key."""
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(hours=1))

    def certificate(subject, issuer, public_key, signing_key, extensions):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(validity[0]).not_valid_after(validity[1]))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "VideoSDK stand-in test CA")])
    ca = certificate(ca_name, ca_name, ca_key.public_key(), ca_key, [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                       encipher_only=False, decipher_only=False), True),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
    ])
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name,
        server_key.public_key(), ca_key, [
            (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ])
    ca_file, chain_file, key_file = work / "test-ca.pem", work / "server.pem", work / "server-key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return ca_file, chain_file, key_file


class StandIn:
    """What a running stand-in offers its caller: where it is, the CA to trust, what it saw."""

    def __init__(self, endpoint: str, ca_file: Path, delay_seconds: float):
        self.endpoint = endpoint
        self.ca_file = ca_file
        self.delay_seconds = delay_seconds  # added before each handshake and each answer
        self.connections = []  # monotonic ns of each connection accepted
        self.requests = []  # (monotonic ns, method, path) of each request read
        self.lock = threading.Lock()

    def seen(self) -> tuple:
        """How many connections and requests so far: a mark to count from with `since`."""
        with self.lock:
            return len(self.connections), len(self.requests)

    def since(self, mark: tuple) -> tuple:
        """The connections' times and the requests seen since `mark` (from `seen`)."""
        with self.lock:
            return self.connections[mark[0]:], self.requests[mark[1]:]

    def key_fetches(self) -> int:
        with self.lock:
            return sum(1 for _, method, path in self.requests
                       if (method, path) == ("GET", WEBHOOK_PUBLIC_KEY_PATH))


@contextmanager
def videosdk_stand_in(work: Path, webhook_public_key: str, delay_seconds: float = 0.0,
                      certificate: tuple = None):
    """Serves on a free port of 127.0.0.1 until the block ends; yields its StandIn. Its
    certificate: `certificate` (make_test_ca's three paths, to share one test CA with another
    server, as the functions trust only one), or one of a CA made here."""
    ca_file, chain_file, key_file = certificate or make_test_ca(work)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    key_body = json.dumps({"publicKey": webhook_public_key}).encode()
    room_numbers = itertools.count()

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True  # a pooled connection holds its thread until the client goes

        def finish_request(self, request, client_address):
            # In the connection's own thread, so a slow handshake holds up no other connection.
            with stand_in.lock:
                stand_in.connections.append(time.monotonic_ns())
            time.sleep(stand_in.delay_seconds)
            try:
                tls = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client gave up, or refused the certificate
            try:
                self.RequestHandlerClass(tls, client_address, self)
            finally:
                tls.close()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the functions pool their connection
        # Each write out at once: Nagle's algorithm would hold a body written after its headers
        # until the client's delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, *_):
            pass

        def arrived(self):
            with stand_in.lock:
                stand_in.requests.append((time.monotonic_ns(), self.command, self.path))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            time.sleep(stand_in.delay_seconds)

        def answer(self, status, body=b"", content_length=None):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self):
            self.arrived()
            self.answer(200, content_length=0)

        def do_GET(self):
            self.arrived()
            if self.path == WEBHOOK_PUBLIC_KEY_PATH:
                self.answer(200, key_body)
            elif self.path.startswith(VALIDATE_PREFIX):
                self.answer(200, room(self.path.removeprefix(VALIDATE_PREFIX)))
            else:
                self.answer(404, b"{}")

        def do_POST(self):
            self.arrived()
            if self.path == ROOMS_PATH:
                self.answer(200, room(room_id(next(room_numbers))))
            else:
                self.answer(404, b"{}")

    httpd = Server(("127.0.0.1", 0), Handler)
    stand_in = StandIn(f"https://127.0.0.1:{httpd.server_address[1]}", ca_file, delay_seconds)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        httpd.shutdown()
        httpd.server_close()


def room(room_id: str) -> bytes:
    return json.dumps({"id": f"id-{room_id}", "roomId": room_id, "customRoomId": None,
                       "disabled": False, "createdAt": "2026-12-01T00:00:00.000Z"}).encode()


def room_id(number: int) -> str:
    """An `abcd-efgh-ijkl`-shaped id, distinct for each number."""
    letters = ""
    for _ in range(8):
        number, digit = divmod(number, 26)
        letters = chr(ord("a") + digit) + letters
    return f"vsdk-{letters[:4]}-{letters[4:]}"
