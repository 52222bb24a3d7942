#!/usr/bin/env python3
# git-http.py - serve git repositories over smart HTTP for tests: runs
# `git http-backend` as a CGI behind an optional basic-auth check.
#
#   git-http.py --root DIR [--port N] [--port-file F] [--user U --password P]
#
# Listens on 127.0.0.1 (port 0 = pick one; it is written to --port-file).
# Every repository under DIR is exported. Test use only.
import argparse
import base64
import http.server
import os
import socketserver
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--user")
    ap.add_argument("--password")
    args = ap.parse_args()
    root = os.path.abspath(args.root)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def authorized(self):
            if not args.user:
                return True
            want = base64.b64encode(("%s:%s" % (args.user, args.password or "")).encode()).decode()
            return self.headers.get("Authorization", "") == "Basic " + want

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    line = self.rfile.readline().strip()
                    n = int(line.split(b";")[0], 16)
                    if n == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(n)
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def handle_any(self):
            body = self.read_body() if self.command == "POST" else b""
            if not self.authorized():
                msg = b"authentication required\n"
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            path, _, query = self.path.partition("?")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": root,
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1",
                "REMOTE_USER": args.user or "",
                "GATEWAY_INTERFACE": "CGI/1.1",
                "SERVER_PROTOCOL": "HTTP/1.1",
            }
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers.get("Content-Encoding")
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers.get("Git-Protocol")
            p = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
            out = p.stdout
            head, sep, rest = out.partition(b"\r\n\r\n")
            if not sep:
                head, sep, rest = out.partition(b"\n\n")
            status = 200
            headers = []
            for line in head.replace(b"\r\n", b"\n").split(b"\n"):
                if not line:
                    continue
                k, _, v = line.decode("latin-1").partition(":")
                v = v.strip()
                if k.lower() == "status":
                    status = int(v.split()[0])
                else:
                    headers.append((k, v))
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(rest)))
            self.end_headers()
            self.wfile.write(rest)

        do_GET = handle_any
        do_POST = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", args.port), Handler)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
