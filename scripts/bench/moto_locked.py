"""moto_server with SQS's ``Queue.delete_message`` made atomic: for benchmarks only.

moto 5.2.5 deletes a message by rebuilding the queue's message list from a copy and assigning it
back, without a lock (moto/sqs/models.py, ``Queue.delete_message``). Two DeleteMessageBatch
calls served at once can each put back the message the other removed, and moto still answers
both as successful: the message stays in flight until its visibility timeout, and moto's SQS,
which does work proportional to the messages it holds, gets slower for every later request. A
worker that keeps several acknowledgements in flight loses more deletes than one that does not,
so drain times on the stock emulator measure moto's race as much as the worker. Real SQS has no
such race. scripts/bench.sh runs this by default (``--stock-moto`` for the unpatched server);
the tests run stock moto.

With ``MOTO_LEAN_RETENTION=1`` it also answers ReceiveMessage without moto's per-message queue
scan: for every message it returns, moto 5.2.5 checks the retention period by computing *all* the
queue's attributes (``is_message_valid_based_on_retention_period`` -> ``get_queue_attributes``),
three passes over every message the queue holds, in flight or not. A profile of a benchmark run
(py-spy on moto) put 50-63 % of moto's CPU there: a receive costs moto (messages returned) x
(messages held), so a worker that holds messages in flight longer pays for it in every later
receive. Real SQS has no such cost. The lean mode reads the retention period directly; it is a
diagnostic (``scripts/bench.sh --lean-moto``), not the default.

It also sets TCP_NODELAY on every connection it serves (werkzeug sends headers and body in two
writes; with Nagle on, the body can wait ~40 ms for a delayed ACK).

Usage: the arguments of ``moto_server`` (e.g. ``-H 127.0.0.1 -p 5000``).
"""

import os
import socket
import sys
import threading

from werkzeug.serving import WSGIRequestHandler

from moto.server import main
from moto.sqs import models

_LOCK = threading.RLock()
_delete_message = models.Queue.delete_message


def _locked_delete_message(self, receipt_handle):
    with _LOCK:
        return _delete_message(self, receipt_handle)


models.Queue.delete_message = _locked_delete_message


def _lean_retention_check(self, queue_name, message):
    queue = self.get_queue(queue_name)
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
    return retain_until > models.unix_time()


# werkzeug, like http.server, sends a response's headers and body in separate send() calls; with
# Nagle's algorithm the body can wait ~40 ms for the delayed ACK of the headers.
_setup = WSGIRequestHandler.setup


def _setup_nodelay(self):
    _setup(self)
    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


WSGIRequestHandler.setup = _setup_nodelay

if os.environ.get("MOTO_LEAN_RETENTION") == "1":
    models.SQSBackend.is_message_valid_based_on_retention_period = _lean_retention_check

if __name__ == "__main__":
    sys.exit(main())
