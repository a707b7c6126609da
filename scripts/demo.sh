#!/usr/bin/env bash
# image-janitor, end to end on a laptop: no AWS account needed.
#
#   scripts/demo.sh
#
# Installs the moto emulator if missing (scripts/setup-moto.sh, into .venv), builds the binary
# (debug: the fastest cold build; DEMO_PROFILE=release to use a release build), starts moto on a
# free loopback port, creates a queue + dead-letter queue + bucket, uploads sample images,
# publishes page.created messages (plus one SNS-wrapped and two poison messages), runs
# `image-janitor run` until the queue is drained, and shows the objects gone, the poison
# messages in the DLQ with their janitor.reason / janitor.detail, and a few metrics.
# Everything it starts is stopped on exit. Needs: python3 (3.9+), cargo, curl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

PROFILE="${DEMO_PROFILE:-debug}"
BUCKET="demo-keep-images"
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

if cmd == "setup":  # BUCKET -> prints QUEUE_URL DLQ_URL
    bucket = args[0]
    dlq = sqs.create_queue(QueueName="demo-page-created-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "8"})
    main = sqs.create_queue(QueueName="demo-page-created", Attributes={"RedrivePolicy": policy})["QueueUrl"]
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
read -r QUEUE_URL DLQ_URL < <(aws setup "${BUCKET}")
echo "main queue: ${QUEUE_URL}"
echo "DLQ:        ${DLQ_URL}"
echo "bucket:     s3://${BUCKET}   (the janitor may delete under ${PREFIX} only)"

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
echo "bucket before:"
aws ls "${BUCKET}"

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

echo "-- poison 1: names an object outside ${PREFIX} (so none of its objects is deleted):"
"${BIN}" publish --page-id page-4 \
  "s3://${BUCKET}/keep-images/note-4/kept-poison-sibling.jpg" "s3://${BUCKET}/private/do-not-touch.jpg"
echo "-- poison 2: not JSON at all:"
aws send "${QUEUE_URL}" 'page.created: oops, not JSON'
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

section "6. The bucket after: named images gone; the poison message's images and the rest kept"
aws ls "${BUCKET}"

section "7. The dead-letter queue: poison messages with janitor.reason and janitor.detail"
if "${BIN}" dlq peek >"${WORK}/peek.txt" 2>&1; then
  echo "-- image-janitor dlq peek:"
  sed -e 's/^/  /' "${WORK}/peek.txt"
else
  echo "-- (image-janitor dlq peek is not available in this build: $(head -n 1 "${WORK}/peek.txt"))"
fi
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
echo "image-janitor exited with ${rc}; stopping moto. Demo took $((SECONDS - started))s."
