"""The emulator's own ceiling: a trivial SQS consumer with no S3 work (benchmark helper).

T threads, each looping ReceiveMessage(10) + DeleteMessageBatch of what it got -- the least a
worker can do per message -- against ENDPOINT until SIGTERM; then prints one JSON line with the
requests sent and messages deleted. It prints "ready" once its client is built and starts only on
SIGUSR1, so that Python's start-up (~0.5 s of importing boto3) is not charged to the emulator.
Run by scripts/bench/scaling.py, one process per worker
process it stands in for, with as many threads as a worker has receive loops.

    python3 scripts/bench/trivial_client.py --endpoint URL --queue-url URL --threads 4
"""

import argparse
import json
import signal
import sys
import threading

import boto3
from botocore.config import Config

STOP = threading.Event()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--queue-url", required=True)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--wait", type=int, default=1, help="long-poll seconds")
    ap.add_argument("--visibility", type=int, default=20, help="VisibilityTimeout on receive")
    args = ap.parse_args()
    sqs = boto3.client(
        "sqs",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 10, "mode": "standard"},
                      max_pool_connections=args.threads + 2),
    )
    lock = threading.Lock()
    totals = {"receives": 0, "delete_batches": 0, "messages": 0, "failed_deletes": 0}

    def loop():
        receives = batches = messages = failed = 0
        while not STOP.is_set():
            got = sqs.receive_message(
                QueueUrl=args.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=args.wait,
                VisibilityTimeout=args.visibility,
            ).get("Messages", [])
            receives += 1
            if not got:
                continue
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            out = sqs.delete_message_batch(QueueUrl=args.queue_url, Entries=entries)
            batches += 1
            failed += len(out.get("Failed", []))
            messages += len(got) - len(out.get("Failed", []))
        with lock:
            totals["receives"] += receives
            totals["delete_batches"] += batches
            totals["messages"] += messages
            totals["failed_deletes"] += failed

    go = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: (STOP.set(), go.set()))
    signal.signal(signal.SIGUSR1, lambda *_: go.set())
    print("ready", flush=True)
    while not go.wait(0.05):
        pass
    threads = [threading.Thread(target=loop, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    while not STOP.wait(0.2):
        pass
    for t in threads:
        t.join(timeout=args.wait + 10)
    print(json.dumps(totals), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
