"""Create a bucket and upload N small objects under a prefix, fast (thread pool), for the
sweeper benchmark. Uses the botocore that awscli brings into the benchmark venv.

usage: bench_upload.py ENDPOINT BUCKET PREFIX N
"""

import sys
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore.config
    import botocore.session
except ModuleNotFoundError:  # awscli 1.46+ vendors botocore as awscli.botocore
    import awscli.botocore.config as _config
    import awscli.botocore.session as _session

    class botocore:  # noqa: N801 - same shape as the real package
        config = _config
        session = _session


def main() -> None:
    endpoint, bucket, prefix, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    session = botocore.session.get_session()
    client = session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(
            max_pool_connections=32, s3={"addressing_style": "path"}
        ),
    )
    client.create_bucket(Bucket=bucket)
    body = b"\x89PNG fake image"

    def put(i: int) -> None:
        client.put_object(Bucket=bucket, Key=f"{prefix}note-{i // 10:05}/{i:06}.jpg", Body=body)

    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in pool.map(put, range(n)):
            pass


if __name__ == "__main__":
    main()
