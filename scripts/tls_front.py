"""moto_server over HTTPS, for scripts/bench-coldstart: every AWS call of a deployed function is
HTTPS (Secrets Manager, EventBridge), so the bench's are too. moto_server's own `--ssl` does each
TLS handshake in its accept loop, one connection after another; this front does each in the
connection's own thread, as the VideoSDK stand-in does, and writes without Nagle's delay.

It reads each request, passes it to moto_server over a plain keep-alive connection of its own
(one per client connection) and writes moto's answer back: an HTTP proxy, not a byte pump, so
that it can add a fixed delay per round trip as a distant endpoint would (`TlsFront.delay_seconds`,
before each TLS handshake and before each answer; 0 by default) and count what it saw.

Its certificate is one a test CA signed (videosdk_stand_in.make_test_ca), which the functions
trust only through the test-only TEST_ONLY_EXTRA_CA_FILE.
"""

import http.client
import http.server
import socket
import ssl
import threading
import time
from contextlib import contextmanager

# Headers of one hop, which a proxy does not pass on (RFC 9110, 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length"}


class TlsFront:
    """What a running front offers its caller: where it is and what it saw."""

    def __init__(self, endpoint: str, delay_seconds: float):
        self.endpoint = endpoint
        self.delay_seconds = delay_seconds  # added before each handshake and each answer
        self.connections = 0
        self.requests = 0
        self.lock = threading.Lock()


@contextmanager
def tls_front(upstream_port: int, chain_file, key_file, delay_seconds: float = 0.0):
    """Serves HTTPS on a free port of 127.0.0.1 in front of moto_server on `upstream_port` until
    the block ends; yields its TlsFront."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True  # a pooled connection holds its thread until the client goes

        def finish_request(self, request, client_address):
            # In the connection's own thread, so a slow handshake holds up no other connection.
            with front.lock:
                front.connections += 1
            time.sleep(front.delay_seconds)
            try:
                tls = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client gave up, or refused the certificate
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port)
            try:
                self.RequestHandlerClass(tls, client_address, self, upstream)
            finally:
                upstream.close()
                tls.close()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the functions pool their connection
        disable_nagle_algorithm = True

        def __init__(self, request, client_address, server, upstream):
            self.upstream = upstream
            super().__init__(request, client_address, server)

        def log_message(self, *_):
            pass

        def forward(self):
            with front.lock:
                front.requests += 1
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {name: value for name, value in self.headers.items()
                       if name.lower() not in HOP_BY_HOP}
            if self.upstream.sock is None:
                self.upstream.connect()
                self.upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.upstream.request(self.command, self.path, body=body, headers=headers)
            response = self.upstream.getresponse()
            answer = response.read()
            time.sleep(front.delay_seconds)
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                # send_response wrote its own Server and Date.
                if name.lower() not in HOP_BY_HOP | {"server", "date"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

    httpd = Server(("127.0.0.1", 0), Handler)
    front = TlsFront(f"https://127.0.0.1:{httpd.server_address[1]}", delay_seconds)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield front
    finally:
        httpd.shutdown()
        httpd.server_close()
