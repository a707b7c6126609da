"""A counting reverse proxy for the AWS emulator (benchmark helper; stdlib only).

Every request is forwarded unchanged to TARGET and counted by AWS operation, independently
of the worker's own metrics:

* SQS (JSON protocol): the ``X-Amz-Target`` header, e.g. ``AmazonSQS.ReceiveMessage``;
  SQS query protocol: the ``Action`` form field.
* S3 (path-style): method + query, e.g. ``POST ?delete`` = DeleteObjects,
  ``DELETE /bucket/key`` = DeleteObject, ``GET ?list-type=2`` = ListObjectsV2.

It also follows every message from receive to acknowledgement (SQS JSON protocol): the
``ReceiveMessage`` responses map receipt handles to message ids, and a successful
``DeleteMessageBatch`` entry or ``DeleteMessage`` marks that message acknowledged, with the
proxy's wall-clock time (``time.time()``) when moto's answer came back. Duplicates (a message
received twice) count once.

Control endpoints (never forwarded): ``GET /__counts`` returns the counts as JSON
(``{"counts": {"sqs ReceiveMessage": 12, ...}, "upstream_seconds": {...}, "acked": 97}``, the
second the time spent waiting for the emulator per operation); ``GET /__acks`` returns
``{"acks": {message_id: unix_time, ...}}``; ``GET /__trace`` returns every forwarded request as
``[start, end, operation, size]`` (see ``TRACE``); ``GET /__wait?n=N&timeout=S`` returns once N
distinct messages have been acknowledged (``{"acked": count}``, possibly fewer on timeout);
``POST /__reset`` zeroes everything.

    python3 scripts/bench/proxy.py --port 0 --target http://127.0.0.1:5000 [--port-file F]
"""

import argparse
import http.client
import json
import os
import socket
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
}

COUNTS: Counter = Counter()
UPSTREAM_SECONDS: Counter = Counter()
LOCK = threading.Lock()
ACKED_CHANGED = threading.Condition(LOCK)
RECEIPTS: dict = {}  # receipt handle -> message id
ACKS: dict = {}  # message id -> time of the first successful delete
# ReceiveMessage shapes: "long 10", "short 0", ... (long or short poll, messages returned)
RECEIVES: Counter = Counter()
# One row per forwarded request: [start, end (unix seconds), operation, size], size being the
# messages a ReceiveMessage returned (negative for a long poll: -1 - count), the entries of a
# DeleteMessageBatch or the keys of a DeleteObjects. For the per-wave timeline (trace.py).
TRACE: list = []


def size_of(op: str, request: bytes, response: bytes) -> int:
    try:
        if op == "sqs ReceiveMessage":
            got = len(json.loads(response or b"{}").get("Messages", []))
            long_poll = (json.loads(request or b"{}").get("WaitTimeSeconds", 0) or 0) > 0
            return -1 - got if long_poll else got
        if op == "sqs DeleteMessageBatch":
            return len(json.loads(request or b"{}").get("Entries", []))
        if op == "s3 DeleteObjects":
            return request.count(b"<Key>")
    except (ValueError, TypeError, AttributeError):
        pass
    return 0


def follow(op: str, request: bytes, status: int, response: bytes) -> None:
    """Track receipt handles and acknowledgements (SQS JSON protocol only; errors ignored)."""
    if status != 200 or op not in (
        "sqs ReceiveMessage",
        "sqs DeleteMessageBatch",
        "sqs DeleteMessage",
    ):
        return
    now = time.time()
    try:
        if op == "sqs ReceiveMessage":
            got = json.loads(response or b"{}").get("Messages", [])
            wait = json.loads(request or b"{}").get("WaitTimeSeconds", 0) or 0
            with LOCK:
                RECEIVES[f"{'long' if wait > 0 else 'short'} {len(got)}"] += 1
                for m in got:
                    RECEIPTS[m["ReceiptHandle"]] = m["MessageId"]
            return
        req = json.loads(request or b"{}")
        if op == "sqs DeleteMessage":
            handles = [req.get("ReceiptHandle")]
        else:
            ok = {e["Id"] for e in json.loads(response or b"{}").get("Successful", [])}
            handles = [e["ReceiptHandle"] for e in req.get("Entries", []) if e["Id"] in ok]
        with LOCK:
            for h in handles:
                mid = RECEIPTS.get(h)
                if mid is not None and mid not in ACKS:
                    ACKS[mid] = now
            ACKED_CHANGED.notify_all()
    except (ValueError, KeyError, TypeError, AttributeError):
        pass


def operation(method: str, path: str, headers, body: bytes) -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return "sqs " + target.rsplit(".", 1)[-1]
    split = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
    ctype = headers.get("Content-Type", "")
    if method == "POST" and "x-www-form-urlencoded" in ctype:
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return "sqs " + action[0]
    if "Action" in query:
        return "sqs " + query["Action"][0]
    segments = [s for s in split.path.split("/") if s]
    has_key = len(segments) > 1
    if method == "POST" and "delete" in query:
        return "s3 DeleteObjects"
    if method == "DELETE":
        return "s3 DeleteObject" if has_key else "s3 DeleteBucket"
    if method == "GET" and query.get("list-type") == ["2"]:
        return "s3 ListObjectsV2"
    if method == "GET":
        return "s3 GetObject" if has_key else "s3 ListObjects"
    if method == "PUT":
        return "s3 PutObject" if has_key else "s3 CreateBucket"
    if method == "HEAD":
        return "s3 HeadObject" if has_key else "s3 HeadBucket"
    return f"other {method}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    target: urllib.parse.SplitResult
    local = threading.local()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def setup(self):
        # http.server writes a response's headers and its body in two send() calls; with Nagle's
        # algorithm on, the body waits for the client's delayed ACK of the headers: ~40 ms added
        # to about a third of the requests (seen in trace.py as a fixed 40-50 ms gap between a
        # DeleteObjects and the acknowledgements it releases, for every worker).
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def upstream(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=120)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.local.conn = conn
        return conn

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def control(self) -> bool:
        split = urllib.parse.urlsplit(self.path)
        if split.path == "/__counts":
            with LOCK:
                payload = json.dumps(
                    {
                        "counts": dict(COUNTS),
                        "upstream_seconds": dict(UPSTREAM_SECONDS),
                        "receives": dict(RECEIVES),
                        "acked": len(ACKS),
                    },
                    sort_keys=True,
                ).encode()
        elif split.path == "/__trace":
            with LOCK:
                payload = json.dumps({"trace": TRACE}).encode()
        elif split.path == "/__acks":
            with LOCK:
                payload = json.dumps({"acks": dict(ACKS)}).encode()
        elif split.path == "/__wait":
            query = urllib.parse.parse_qs(split.query)
            n = int(query.get("n", ["0"])[0])
            timeout = float(query.get("timeout", ["60"])[0])
            with LOCK:
                ACKED_CHANGED.wait_for(lambda: len(ACKS) >= n, timeout=timeout)
                payload = json.dumps({"acked": len(ACKS)}).encode()
        elif split.path == "/__reset":
            with LOCK:
                COUNTS.clear()
                UPSTREAM_SECONDS.clear()
                RECEIVES.clear()
                RECEIPTS.clear()
                ACKS.clear()
                TRACE.clear()
            payload = b"{}"
        else:
            return False
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        return True

    def forward(self):
        body = self.read_body()
        if self.control():
            return
        op = operation(self.command, self.path, self.headers, body)
        with LOCK:
            COUNTS[op] += 1
        started, started_wall = time.monotonic(), time.time()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            conn = self.upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                with LOCK:
                    UPSTREAM_SECONDS[op] += time.monotonic() - started
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    self.send_error(502)
                    return
        follow(op, body, resp.status, data)
        row = [started_wall, time.time(), op, size_of(op, body, data)]
        with LOCK:
            TRACE.append(row)
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        else:
            self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--target", required=True)
    ap.add_argument("--port-file", help="write the bound port here once listening")
    args = ap.parse_args()
    Handler.target = urllib.parse.urlsplit(args.target)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"proxy listening on 127.0.0.1:{port} -> {args.target}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
