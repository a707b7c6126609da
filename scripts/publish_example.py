#!/usr/bin/env python3
"""Publish one `page.created` message (CONTRACT §2), as the Notion Writer does.

    python3 scripts/publish_example.py QUEUE_URL s3://bucket/keep-images/n1/a.jpg [URL ...]
        [--page-id ID] [--note-id ID] [--region REGION]

Prints the SQS MessageId. Needs boto3 and credentials from the standard chain
(the Notion Writer's role has only sqs:SendMessage on the main queue).
AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_SQS point it at an emulator.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from datetime import datetime, timezone

import boto3


def page_created(urls: list[str], page_id: str | None, note_id: str | None) -> str:
    """The message body: schema version 1, UTF-8 JSON."""
    message = {
        "type": "page.created",
        "version": 1,
        "page_id": page_id or str(uuid.uuid4()),
        "images": [{"s3_url": url} for url in urls],
        "published_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if note_id:
        message["note_id"] = note_id
    return json.dumps(message, ensure_ascii=False)


def region_for(queue_url: str) -> str:
    explicit = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if explicit:
        return explicit
    m = re.match(r"https://sqs\.([a-z0-9-]+)\.amazonaws\.com", queue_url)
    return m.group(1) if m else "us-east-1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Publish a page.created message to the image-janitor queue.")
    parser.add_argument("queue_url", help="the main queue URL (terraform output main_queue_url)")
    parser.add_argument("urls", nargs="*", metavar="URL", help="s3:// or https:// URLs of the images (max 1000)")
    parser.add_argument("--page-id")
    parser.add_argument("--note-id")
    parser.add_argument("--region", help="default: AWS_REGION, else the queue URL's region")
    args = parser.parse_args(argv)
    if len(args.urls) > 1000:
        parser.error("at most 1000 images per message")

    # boto3 >= 1.28.57 reads AWS_ENDPOINT_URL(_SQS) itself; passing it keeps
    # older boto3 working against an emulator too.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL") or None
    sqs = boto3.client("sqs", region_name=args.region or region_for(args.queue_url), endpoint_url=endpoint)

    body = page_created(args.urls, args.page_id, args.note_id)
    response = sqs.send_message(QueueUrl=args.queue_url, MessageBody=body)
    print(response["MessageId"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
