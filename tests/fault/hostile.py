#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A hostile update server for tests/fault/hostile.sh (python3 stdlib only).

Listens on 127.0.0.1 only, on a free port that it writes to PORT_FILE, and
serves BUNDLE (a valid bundle the device would take) wrapped in the ways a
broken or malicious server answers:

  /good         the bundle, as a static server would
  /drip         a Content-Length, then one byte a second
  /endless      200 without a length and a body that never ends
  /truncated    a Content-Length, half the body, then the connection closes
  /short-length a Content-Length 10 bytes short of the body it sends
  /long-length  a Content-Length 100 bytes over the body it sends
  /500, /503    server errors
  /loop         a redirect to itself
  /to-file      a redirect to file:// (the bundle on this machine)
  /to-ftp       a redirect to ftp://
  /gzip-bomb    Content-Encoding: gzip, 256 MiB of zeros in about 250 KB
  /huge-headers 1 MB of response headers, then the bundle
  /huge-header  one header line of 1 MB, then the bundle
  /304          304 Not Modified to a request that asked for nothing
  /junk-after   the bundle and junk after it, under one Content-Length
  /long-etag    the bundle with a 16 KB ETag

Bounded: every response ends within 120 s and every body within 256 MiB,
and the server exits after LIFETIME seconds.

usage: hostile.py PORT_FILE BUNDLE LIFETIME
"""
import http.server
import os
import socket
import sys
import threading
import time
import zlib

RESPONSE_SECONDS = 120
BODY_CAP = 256 << 20


def gzip_bomb(n):
    """A gzip stream of n zero bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    out = [c.compress(chunk) for _ in range(n >> 20)]
    out.append(c.flush())
    return b"".join(out)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    bundle = b""
    bundle_path = ""
    bomb = b""

    def log_message(self, fmt, *args):
        pass

    def head(self, code, headers, length=None):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()

    def body(self, data):
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        b = self.bundle
        path = self.path.split("?")[0]
        start = time.monotonic()
        if path == "/good":
            self.head(200, [("ETag", '"good"')], len(b))
            self.body(b)
        elif path == "/drip":
            self.head(200, [], len(b))
            for i in range(len(b)):
                if time.monotonic() - start > RESPONSE_SECONDS:
                    break
                try:
                    self.wfile.write(b[i:i + 1])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    break
                time.sleep(1)
        elif path == "/endless":
            self.head(200, [])
            chunk = b"\0" * 65536
            sent = 0
            while sent < BODY_CAP and \
                    time.monotonic() - start < RESPONSE_SECONDS:
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(chunk)
        elif path == "/truncated":
            self.head(200, [], len(b))
            self.body(b[: len(b) // 2])
        elif path == "/short-length":
            self.head(200, [], len(b) - 10)
            self.body(b)
        elif path == "/long-length":
            self.head(200, [], len(b) + 100)
            self.body(b)
        elif path in ("/500", "/503"):
            msg = b"server error\n"
            self.head(int(path[1:]), [("Content-Type", "text/plain")],
                      len(msg))
            self.body(msg)
        elif path == "/loop":
            self.head(302, [("Location", "/loop")], 0)
        elif path == "/to-file":
            self.head(302, [("Location", "file://" + self.bundle_path)], 0)
        elif path == "/to-ftp":
            self.head(302, [("Location", "ftp://127.0.0.1:1/latest.rkb")],
                      0)
        elif path == "/gzip-bomb":
            self.head(200, [("Content-Encoding", "gzip")], len(self.bomb))
            self.body(self.bomb)
        elif path == "/huge-headers":
            line = "x" * 1000
            self.head(200, [("X-Junk-%d" % i, line) for i in range(1000)],
                      len(b))
            self.body(b)
        elif path == "/huge-header":
            self.head(200, [("X-Huge", "h" * (1 << 20))], len(b))
            self.body(b)
        elif path == "/304":
            self.head(304, [("ETag", '"unsolicited"')])
        elif path == "/junk-after":
            junk = b"junk after the last signature\n"
            self.head(200, [], len(b) + len(junk))
            self.body(b + junk)
        elif path == "/long-etag":
            self.head(200, [("ETag", '"' + "e" * 16384 + '"')], len(b))
            self.body(b)
        else:
            self.head(404, [], 0)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__.split("\n\n")[-1] + "\n")
        return 2
    port_file, bundle, lifetime = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(bundle, "rb") as f:
        Handler.bundle = f.read()
    Handler.bundle_path = os.path.abspath(bundle)
    Handler.bomb = gzip_bomb(256 << 20)
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, port_file)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    time.sleep(lifetime)
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
