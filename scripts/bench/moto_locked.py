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

Usage: the arguments of ``moto_server`` (e.g. ``-H 127.0.0.1 -p 5000``).
"""

import sys
import threading

from moto.server import main
from moto.sqs import models

_LOCK = threading.RLock()
_delete_message = models.Queue.delete_message


def _locked_delete_message(self, receipt_handle):
    with _LOCK:
        return _delete_message(self, receipt_handle)


models.Queue.delete_message = _locked_delete_message

if __name__ == "__main__":
    sys.exit(main())
