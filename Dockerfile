# syntax=docker/dockerfile:1.7
#
# image-janitor container image.
#
#   docker build -t ghcr.io/example/image-janitor:0.1.0 .
#
# Two stages: a Rust builder (pinned by tag) and a distroless runtime that has
# glibc, libgcc and CA certificates but no shell. The AWS SDK is built with
# rustls, so no OpenSSL is needed at run time.

FROM rust:1.95-bookworm AS builder
WORKDIR /build

# Only what `cargo build` needs (see .dockerignore, an allow-list).
COPY . .

# BuildKit cache mounts keep the crates.io registry and the target directory
# between builds, so a source change recompiles only this crate, not the
# ~300 dependencies. The binary is copied out of the cached target dir in the
# same step, because cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/build/target,sharing=locked \
    cargo build --release --locked --bin image-janitor \
    && install -D -m 0755 target/release/image-janitor /out/image-janitor

FROM gcr.io/distroless/cc-debian12:nonroot
#checkov:skip=CKV_DOCKER_2:distroless has no shell or curl for a HEALTHCHECK; Kubernetes liveness/readiness probes on /healthz and /readyz do this job
LABEL org.opencontainers.image.title="image-janitor" \
      org.opencontainers.image.description="Deletes temporary images from S3 after they have been copied into Notion" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/example/image-janitor"

COPY --from=builder /out/image-janitor /usr/local/bin/image-janitor

# Numeric IDs so Kubernetes' runAsNonRoot can verify them without /etc/passwd.
USER 10001:10001

# /metrics, /healthz, /readyz (JANITOR_HTTP_ADDR, default 0.0.0.0:9090).
EXPOSE 9090

ENTRYPOINT ["image-janitor"]
CMD ["run"]
