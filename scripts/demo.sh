#!/usr/bin/env bash
# image-janitor, end to end on a laptop: no AWS account needed.
#
#   scripts/demo.sh
#
# Installs the moto emulator if missing (scripts/setup-moto.sh, into .venv), builds the binary
# (debug: the fastest cold build; DEMO_PROFILE=release to use a release build), starts moto on a
# free loopback port, creates a queue + dead-letter queue + two buckets, uploads sample
# images, publishes page.created messages (plus one SNS-wrapped and three poison messages),
# runs `image-janitor run` until the queue is drained, and shows the objects gone, the poison
# messages in the DLQ with their janitor.reason / janitor.detail, and a few metrics. Then the
# operator's side: the one fixable poison message (a bucket missing from JANITOR_BUCKETS) is
# fixed by configuration and moved back with `dlq replay`, the two publisher bugs are removed,
# and a sweep (under the S3 lease) deletes the stale objects no message named. It ends with an
# empty DLQ and fails if it is not. Everything it starts is stopped on exit.
# Needs: python3 (3.9+), cargo, curl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

PROFILE="${DEMO_PROFILE:-debug}"
BUCKET="demo-keep-images"
# A second bucket the operator "forgets" in JANITOR_BUCKETS at first (sections 4 and 10).
BUCKET2="demo-keep-images-eu"
PREFIX="keep-images/"
WORK="${ROOT}/.cache/demo"
mkdir -p "${WORK}"

MOTO_PID=""
DAEMON_PID=""
cleanup() {
  if [[ -n "${DAEMON_PID}" ]] && kill -0 "${DAEMON_PID}" 2>/dev/null; then
    kill "${DAEMON_PID}" 2>/dev/null || true
    wait "${DAEMON_PID}" 2>/dev/null || true
  fi
  if [[ -n "${MOTO_PID}" ]]; then scripts/moto.sh stop "${MOTO_PID}"; fi
}
trap cleanup EXIT

if [[ -t 1 ]]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
section() {
  printf '\n%s==== %s%s\n' "${BOLD}" "$*" "${PLAIN}"
}

# aws SUBCOMMAND [ARGS...]: the small boto3 helper below, talking to the emulator.
aws() {
  .venv/bin/python - "$@" <<'PY'
import json, sys, time
import boto3

cmd, args = sys.argv[1], sys.argv[2:]
kw = dict(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
sqs = boto3.client("sqs", **kw)
s3 = boto3.client("s3", config=boto3.session.Config(s3={"addressing_style": "path"}), **kw)

if cmd == "setup":  # BUCKET... -> prints QUEUE_URL DLQ_URL
    dlq = sqs.create_queue(QueueName="demo-page-created-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "8"})
    main = sqs.create_queue(QueueName="demo-page-created", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    for bucket in args:
        s3.create_bucket(Bucket=bucket)
    print(main, dlq)
elif cmd == "put":  # BUCKET KEY...
    for key in args[1:]:
        s3.put_object(Bucket=args[0], Key=key, Body=b"\x89PNG\r\n\x1a\n demo image", ContentType="image/png")
elif cmd == "ls":  # BUCKET
    objs = s3.list_objects_v2(Bucket=args[0]).get("Contents", [])
    for o in objs:
        print(f"  s3://{args[0]}/{o['Key']}")
    print(f"  ({len(objs)} objects)")
elif cmd == "send":  # QUEUE_URL BODY
    print(sqs.send_message(QueueUrl=args[0], MessageBody=args[1])["MessageId"])
elif cmd == "wait-drained":  # QUEUE_URL TIMEOUT_SECONDS
    deadline = time.monotonic() + float(args[1])
    while True:
        a = sqs.get_queue_attributes(QueueUrl=args[0], AttributeNames=["All"])["Attributes"]
        left = int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])
        if left == 0:
            break
        if time.monotonic() > deadline:
            sys.exit(f"the main queue still holds {left} messages after {args[1]}s")
        time.sleep(0.3)
elif cmd == "drop":  # DLQ_URL REASON...: delete the dead-lettered messages with these reasons
    deadline, dropped = time.monotonic() + 30, 0
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=args[0], MaxNumberOfMessages=10, VisibilityTimeout=5,
                                  MessageAttributeNames=["All"], WaitTimeSeconds=1)
        msgs = got.get("Messages", [])
        if not msgs:
            break
        for m in msgs:
            reason = m.get("MessageAttributes", {}).get("janitor.reason", {}).get("StringValue")
            if reason in args[1:]:
                sqs.delete_message(QueueUrl=args[0], ReceiptHandle=m["ReceiptHandle"])
                dropped += 1
                print(f"  deleted {m['MessageId']} (janitor.reason={reason})")
            else:
                sqs.change_message_visibility(QueueUrl=args[0], ReceiptHandle=m["ReceiptHandle"],
                                              VisibilityTimeout=0)
    print(f"  ({dropped} messages deleted from the DLQ)")
elif cmd == "depth":  # QUEUE_URL
    a = sqs.get_queue_attributes(QueueUrl=args[0], AttributeNames=["All"])["Attributes"]
    print(f"{a['ApproximateNumberOfMessages']} visible, {a['ApproximateNumberOfMessagesNotVisible']} in flight")
elif cmd == "dlq":  # DLQ_URL: show dead-lettered messages, leaving them in place
    seen = {}
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=args[0], MaxNumberOfMessages=10, VisibilityTimeout=0,
                                  MessageAttributeNames=["All"], WaitTimeSeconds=0)
        for m in got.get("Messages", []):
            seen[m["MessageId"]] = m
    for m in seen.values():
        attrs = {k: v.get("StringValue") for k, v in m.get("MessageAttributes", {}).items()}
        body = m["Body"] if len(m["Body"]) <= 100 else m["Body"][:97] + "..."
        print(f"  message {m['MessageId']}")
        for name in ("janitor.reason", "janitor.detail", "janitor.attempts", "janitor.failed_at"):
            print(f"    {name:<18} {attrs.get(name)}")
        print(f"    {'body':<18} {body}")
    print(f"  ({len(seen)} messages in the DLQ)")
else:
    sys.exit(f"unknown helper command {cmd}")
PY
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

started=${SECONDS}

section "1. Emulator (moto) and build"
scripts/setup-moto.sh
if [[ "${PROFILE}" == "release" ]]; then
  cargo build --release --bin image-janitor
else
  cargo build --bin image-janitor
fi
BIN="${ROOT}/target/${PROFILE}/image-janitor"
eval "$(scripts/moto.sh start)"
echo "moto listening at ${MOTO_ENDPOINT} (pid ${MOTO_PID})"

# The emulator stands in for AWS: the standard AWS chain reads these.
export AWS_ENDPOINT_URL="${MOTO_ENDPOINT}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE

section "2. Queue, dead-letter queue (RedrivePolicy maxReceiveCount 8) and bucket"
read -r QUEUE_URL DLQ_URL < <(aws setup "${BUCKET}" "${BUCKET2}")
echo "main queue: ${QUEUE_URL}"
echo "DLQ:        ${DLQ_URL}"
echo "buckets:    s3://${BUCKET}, s3://${BUCKET2}   (the janitor may delete under ${PREFIX} only)"
echo "            JANITOR_BUCKETS=${BUCKET}: the operator forgot ${BUCKET2} (fixed in section 10)"

export JANITOR_QUEUE_URL="${QUEUE_URL}"
export JANITOR_BUCKETS="${BUCKET}"
export JANITOR_PREFIX="${PREFIX}"
export JANITOR_S3_FORCE_PATH_STYLE=true
export JANITOR_LOG_FORMAT=text
echo "-- image-janitor preflight (docs/preflight.md; timer off, so no lease):"; JANITOR_SWEEP_INTERVAL=0 "${BIN}" preflight

section "3. Sample images (what Keep-Notion-Sync leaves behind)"
aws put "${BUCKET}" \
  "keep-images/note-1/a.jpg" "keep-images/note-1/b c.png" \
  "keep-images/note-2/photo.jpg" "keep-images/note-2/scan.png" \
  "keep-images/note-3/sketch.png" \
  "keep-images/note-4/kept-poison-sibling.jpg" \
  "keep-images/note-5/not-named-by-any-message.jpg" \
  "private/do-not-touch.jpg"
aws put "${BUCKET2}" "keep-images/note-6/late.jpg"
echo "buckets before:"
aws ls "${BUCKET}"
aws ls "${BUCKET2}"

section "4. Publish page.created messages"
echo "-- image-janitor publish (s3:// and path-style emulator URLs; percent-encoded space):"
"${BIN}" publish --page-id page-1 --note-id note-1 \
  "s3://${BUCKET}/keep-images/note-1/a.jpg" \
  "${MOTO_ENDPOINT}/${BUCKET}/keep-images/note-1/b%20c.png"
"${BIN}" publish --page-id page-2 --note-id note-2 \
  "s3://${BUCKET}/keep-images/note-2/photo.jpg" "s3://${BUCKET}/keep-images/note-2/scan.png"

echo "-- an SNS-wrapped message (as delivered by an SNS -> SQS subscription):"
inner="{\"type\":\"page.created\",\"version\":1,\"page_id\":\"page-3\",\"images\":[{\"s3_url\":\"s3://${BUCKET}/keep-images/note-3/sketch.png\"}]}"
sns=$(python3 -c 'import json,sys; print(json.dumps({"Type":"Notification","MessageId":"demo-sns-1","TopicArn":"arn:aws:sns:us-east-1:123456789012:page-created","Message":sys.argv[1]}))' "${inner}")
aws send "${QUEUE_URL}" "${sns}"

echo "-- poison 1: a '..' key that would climb out of ${PREFIX} (so none of its objects is deleted):"
"${BIN}" publish --page-id page-4 \
  "s3://${BUCKET}/keep-images/note-4/kept-poison-sibling.jpg" "s3://${BUCKET}/keep-images/../private/do-not-touch.jpg"
echo "-- poison 2: not JSON at all:"
aws send "${QUEUE_URL}" 'page.created: oops, not JSON'
echo "-- poison 3: an image in ${BUCKET2}, not (yet) in JANITOR_BUCKETS:"
"${BIN}" publish --page-id page-6 "s3://${BUCKET2}/keep-images/note-6/late.jpg"
echo "main queue: $(aws depth "${QUEUE_URL}")"

section "5. Run the daemon until the main queue is drained"
HTTP_ADDR="127.0.0.1:$(free_port)"
echo "image-janitor run  (JANITOR_WAIT_TIME=1s, JANITOR_HTTP_ADDR=${HTTP_ADDR}, log: ${WORK}/daemon.log)"
JANITOR_WAIT_TIME=1s JANITOR_HTTP_ADDR="${HTTP_ADDR}" JANITOR_SWEEP_INTERVAL=0 \
  JANITOR_QUEUE_POLL_INTERVAL=1s RUST_LOG=info \
  "${BIN}" run >"${WORK}/daemon.log" 2>&1 &
DAEMON_PID=$!
daemon_started=${SECONDS}
aws wait-drained "${QUEUE_URL}" 60
echo "main queue drained $((SECONDS - daemon_started))s after the daemon started: $(aws depth "${QUEUE_URL}")"
echo "-- from the daemon's log (start, dead-letters, delete batches; audit events omitted):"
sed -e $'s/\x1b\\[[0-9;]*m//g' "${WORK}/daemon.log" \
  | grep -E 'image-janitor started|dead-letter|delete batch done' | grep -v 'janitor::audit' \
  | sed -e 's/^[0-9TZ:.-]* *//' -e 's/^/  /' | cut -c1-240 | head -n 12

section "6. The buckets after: named images gone; the poison messages' images and the rest kept"
aws ls "${BUCKET}"
aws ls "${BUCKET2}"

section "7. The dead-letter queue: poison messages with janitor.reason and janitor.detail"
echo "-- image-janitor dlq peek:"
"${BIN}" dlq peek | sed -e 's/^/  /'
echo "-- image-janitor dlq peek --json | jq-style count by reason (stdout holds only messages):"
"${BIN}" dlq peek --json 2>/dev/null \
  | python3 -c 'import collections, json, sys; c = collections.Counter(json.loads(l)["reason"] for l in sys.stdin); [print(f"  {n} {r}") for r, n in sorted(c.items())]'
echo "-- the same messages read with boto3 (MessageAttributeNames=All), left in place:"
aws dlq "${DLQ_URL}"

section "8. Metrics (GET http://${HTTP_ADDR}/metrics)"
curl -fsS "http://${HTTP_ADDR}/metrics" \
  | grep -E '^janitor_(messages_acked_total|objects_deleted_total|messages_dead_lettered_total|aws_requests_total)' \
  | sed -e 's/^/  /'

section "9. Shut down (SIGTERM: drain, exit 0)"
kill -TERM "${DAEMON_PID}"
rc=0
wait "${DAEMON_PID}" || rc=$?
DAEMON_PID=""
echo "image-janitor exited with ${rc}"

section "10. Fix and replay: ${BUCKET2} belongs in JANITOR_BUCKETS"
export JANITOR_BUCKETS="${BUCKET},${BUCKET2}"
echo "JANITOR_BUCKETS=${JANITOR_BUCKETS}; restarting the daemon"
JANITOR_WAIT_TIME=1s JANITOR_HTTP_ADDR="${HTTP_ADDR}" JANITOR_SWEEP_INTERVAL=0 \
  JANITOR_QUEUE_POLL_INTERVAL=1s RUST_LOG=info \
  "${BIN}" run >"${WORK}/daemon2.log" 2>&1 &
DAEMON_PID=$!
echo "-- image-janitor dlq replay --reason forbidden_location --dry-run:"
"${BIN}" dlq replay --reason forbidden_location --dry-run 2>/dev/null | sed -e 's/^/  /'
echo "-- image-janitor dlq replay --reason forbidden_location:"
"${BIN}" dlq replay --reason forbidden_location 2>/dev/null | sed -e 's/^/  /'
aws wait-drained "${QUEUE_URL}" 60
echo "main queue drained again: $(aws depth "${QUEUE_URL}")"
kill -TERM "${DAEMON_PID}"
rc=0
wait "${DAEMON_PID}" || rc=$?
DAEMON_PID=""
echo "daemon stopped (exit ${rc}); ${BUCKET2} now:"
aws ls "${BUCKET2}"

section "11. The publisher bugs: fixed at the publisher, so their messages are deleted, not replayed"
aws drop "${DLQ_URL}" invalid_url invalid_json

section "12. A sweep: stale objects that no message named, under the S3 lease"
echo "(demo: --max-age 2s stands in for the default 7d; the lease object lives outside ${PREFIX})"
echo "-- image-janitor sweep --dry-run --max-age 2s:"
"${BIN}" sweep --dry-run --max-age 2s 2>&1 | sed -e $'s/\x1b\\[[0-9;]*m//g' -e 's/^[0-9TZ:.-]* *//' \
  | grep -E 'would sweep' | sed -e 's/^/  /'
echo "-- image-janitor sweep --max-age 2s (debug log shows the lease):"
RUST_LOG=image_janitor=debug "${BIN}" sweep --max-age 2s 2>&1 | sed -e $'s/\x1b\\[[0-9;]*m//g' -e 's/^[0-9TZ:.-]* *//' \
  | grep -E 'lease|sweep finished|^swept' | grep -v 'janitor::audit' | cut -c1-200 | sed -e 's/^/  /'
echo "buckets after the sweep (what is left lies outside ${PREFIX}):"
aws ls "${BUCKET}"
aws ls "${BUCKET2}"

section "13. The end: the dead-letter queue is empty"
left="$(aws depth "${DLQ_URL}")"
echo "DLQ: ${left}"
if [[ "${left}" != "0 visible, 0 in flight" ]]; then
  echo "demo: the dead-letter queue should be empty" >&2
  exit 1
fi
echo "stopping moto. Demo took $((SECONDS - started))s."
