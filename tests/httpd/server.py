#!/usr/bin/env python3
"""server.py - the local HTTP server of the fetch plugin's tests and benchmark.

    server.py PORTFILE [LIFETIME]

Listens on 127.0.0.1, port chosen by the system; writes the port to PORTFILE
(atomically, by rename) once it accepts connections; exits after LIFETIME
seconds (default 300) at the latest.  Paths:

  /ok                     200, body "hello"
  /status/N               status N, body "status N"
  /redirect/N             302 to /redirect/N-1; /redirect/0 is 200 "redirected"
  /loop                   302 to itself
  /bytes/N                N bytes: bytes 0..255 repeated, with Content-Length
  /text/N[/I]             N bytes of text (lines of letters), with Content-Length
  /nul                    200, body "a\\0b"
  /newlines               200, body "line 1\\n\\nline 3\\n\\n\\n"
  /slow/N                 Content-Length 2*N, sends N bytes, then nothing until
                          the client closes the connection (at most 60 s)
  /echo                   the request: "METHOD PATH", header lines, blank line, body
  /headers                200 with the extra header "X-Test: yes"
  /small/I                200, body "small I"
  /conn/I                 200, body "conn C": C numbers the connection (1 for
                          the first the server accepted), to count reuse
  /doomed/TAG/I           200, body "doomed I", keeping the connection open;
                          the next request on it is read and the connection
                          closed without an answer (a keep-alive connection
                          the server dropped just as it was reused)
  /dropped/TAG            200, body: how many requests of TAG were dropped so far
  anything requested through the server as a proxy (absolute URI):
                          200, body "proxied URI"
"""
import http.server
import os
import select
import socketserver
import sys
import itertools
import threading

CONNECTIONS = itertools.count(1)
DROPPED = {}
DROPPED_LOCK = threading.Lock()


def pattern(n):
    block = bytes(range(256)) * 4096
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.conn_id = next(CONNECTIONS)
        self.doomed = False

    def send(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        body = b""
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            body = self.rfile.read(n)
        p = self.path
        parts = p.split("/")
        if self.doomed:
            tag = parts[2] if len(parts) > 2 else ""
            with DROPPED_LOCK:
                DROPPED[tag] = DROPPED.get(tag, 0) + 1
            self.close_connection = True
            return
        if p.startswith("http://") or p.startswith("https://"):
            return self.send(200, b"proxied " + p.encode())
        if p == "/ok":
            return self.send(200, b"hello")
        if p.startswith("/status/"):
            code = int(parts[2])
            return self.send(code, b"status %d" % code)
        if p.startswith("/redirect/"):
            k = int(parts[2])
            if k == 0:
                return self.send(200, b"redirected")
            return self.send(302, b"", [("Location", "/redirect/%d" % (k - 1))])
        if p == "/loop":
            return self.send(302, b"", [("Location", "/loop")])
        if p.startswith("/bytes/"):
            return self.send(200, pattern(int(parts[2])), [("Content-Type", "application/octet-stream")])
        if p.startswith("/text/"):
            n = int(parts[2])
            return self.send(200, (b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.:,;-_+\n" * (n // 64 + 1))[:n])
        if p == "/nul":
            return self.send(200, b"a\0b")
        if p == "/newlines":
            return self.send(200, b"line 1\n\nline 3\n\n\n")
        if p.startswith("/slow/"):
            k = int(parts[2])
            self.send_response(200)
            self.send_header("Content-Length", str(2 * k))
            self.end_headers()
            self.wfile.write(b"x" * k)
            self.wfile.flush()
            select.select([self.connection], [], [], 60)
            self.close_connection = True
            return
        if p == "/echo":
            lines = ["%s %s" % (self.command, p)]
            lines += ["%s: %s" % (k, v) for k, v in self.headers.items()]
            return self.send(200, ("\n".join(lines) + "\n\n").encode() + body)
        if p == "/headers":
            return self.send(200, b"with headers", [("X-Test", "yes")])
        if p.startswith("/small/"):
            return self.send(200, b"small " + parts[2].encode())
        if p.startswith("/conn/"):
            return self.send(200, b"conn %d" % self.conn_id)
        if p.startswith("/doomed/"):
            self.send(200, b"doomed " + parts[3].encode())
            self.doomed = True
            return
        if p.startswith("/dropped/"):
            with DROPPED_LOCK:
                return self.send(200, b"%d" % DROPPED.get(parts[2], 0))
        return self.send(404, b"not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    portfile = sys.argv[1]
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 300
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    t = threading.Timer(lifetime, lambda: os._exit(0))
    t.daemon = True
    t.start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
