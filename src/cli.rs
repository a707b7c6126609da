//! The command line (clap derive). Every option is also an environment variable; flags beat env.
//! Values are taken as raw strings here and validated once, in `config`, so that a bad value is
//! reported in one line naming the setting (exit 2).

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "image-janitor",
    version,
    about = "Deletes temporary Keep images from S3 once the Notion Writer has copied them into Notion.",
    long_about = "Deletes temporary Keep images from S3 once the Notion Writer has copied them into Notion.\n\n\
`run` long-polls the page.created queue and deletes the S3 objects each message names (batched, \
retried with backoff, dead-lettered with a reason when they cannot be deleted), sweeps stale objects \
on a timer, and serves /metrics, /healthz and /readyz. The other commands are operator tools.\n\n\
Every option is also an environment variable (shown as [env: ...]); flags beat the environment. \
AWS settings come from the standard AWS chain (AWS_REGION, AWS_ENDPOINT_URL, credentials, IRSA).\n\n\
Exit codes: 0 success or clean shutdown, 1 runtime failure, 2 bad usage or configuration."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The settings no flag sets, read from the environment by `run`, `sweep` and `preflight`
/// (config reads no other `JANITOR_*` variable: `config::tests` holds the two together), shown
/// after their options. scripts/check_settings.py reads this block from `--help`.
pub const ENV_ONLY_HELP: &str = "\
Environment-only settings (no flag):
  JANITOR_SWEEP_LEASE_BUCKET=<BUCKET>  Bucket of the sweeper's lease object [default: the first of JANITOR_BUCKETS]
  JANITOR_SWEEP_LEASE_KEY=<KEY>        The lease object's key, outside JANITOR_PREFIX [default: image-janitor/sweeper.lease]
  JANITOR_SWEEP_LEASE_TTL=<DURATION>   How long the lease stays live without renewal (2s-1d) [default: 2m]";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The daemon: receive loops, delete batcher, sweeper timer, HTTP endpoints.
    #[command(after_help = ENV_ONLY_HELP)]
    Run(RunArgs),
    /// One sweep now: delete objects under the prefix older than the max age (for a CronJob).
    ///
    /// Takes the sweeper lease like the timer; prints `swept 0 objects (scanned 0)` if another
    /// replica holds it. Exit 1 if S3 refused some objects.
    #[command(after_help = ENV_ONLY_HELP)]
    Sweep(SweepArgs),
    /// Inspect and replay the dead-letter queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Send one page.created message naming the given image URLs; prints the SQS message id.
    Publish(PublishArgs),
    /// Check, changing nothing a user cares about, that every permission and setting `run`
    /// needs is in place: one line per check (ok / WARN / FAIL and the fix).
    ///
    /// Takes the same settings as `run`. Exit 0 when nothing fails, 1 otherwise, 2 for bad
    /// configuration (before any AWS call). See docs/preflight.md.
    #[command(after_help = ENV_ONLY_HELP)]
    Preflight(PreflightArgs),
}

/// Settings shared by the commands that touch queues and buckets.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Main queue URL (required).
    #[arg(long, env = "JANITOR_QUEUE_URL", value_name = "URL")]
    pub queue_url: Option<String>,
    /// Dead-letter queue URL [default: the main queue's RedrivePolicy target].
    #[arg(long, env = "JANITOR_DLQ_URL", value_name = "URL")]
    pub dlq_url: Option<String>,
    /// Comma-separated buckets the janitor may delete from (required).
    #[arg(long, env = "JANITOR_BUCKETS", value_name = "B1,B2")]
    pub buckets: Option<String>,
    /// Key prefix every deletion must be under (required; the empty string only when set explicitly).
    #[arg(long, env = "JANITOR_PREFIX", value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Log format: json or text (level from RUST_LOG, default info).
    #[arg(
        long,
        env = "JANITOR_LOG_FORMAT",
        value_name = "FORMAT",
        default_value = "json"
    )]
    pub log_format: String,
    /// Path-style S3 addressing (emulators).
    #[arg(long, env = "JANITOR_S3_FORCE_PATH_STYLE", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub s3_force_path_style: Option<String>,
    /// Audit events (target janitor::audit) per object deleted or refused and per message dead-lettered: on or off.
    #[arg(
        long,
        env = "JANITOR_AUDIT",
        value_name = "on|off",
        default_value = "on"
    )]
    pub audit: String,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Concurrent receive loops in this process.
    #[arg(
        long,
        env = "JANITOR_CONCURRENCY",
        value_name = "N",
        default_value = "4"
    )]
    pub concurrency: String,
    /// Long-poll wait per receive (0s-20s).
    #[arg(
        long,
        env = "JANITOR_WAIT_TIME",
        value_name = "DURATION",
        default_value = "20s"
    )]
    pub wait_time: String,
    /// Visibility timeout per receive, extended while a message is being worked on.
    #[arg(
        long,
        env = "JANITOR_VISIBILITY_TIMEOUT",
        value_name = "DURATION",
        default_value = "60s"
    )]
    pub visibility_timeout: String,
    /// Receives before a message that keeps failing transiently is dead-lettered (retries_exhausted).
    #[arg(
        long,
        env = "JANITOR_MAX_ATTEMPTS",
        value_name = "N",
        default_value = "5"
    )]
    pub max_attempts: String,
    /// Sweeper period; 0 disables the timer.
    #[arg(
        long,
        env = "JANITOR_SWEEP_INTERVAL",
        value_name = "DURATION",
        default_value = "1h"
    )]
    pub sweep_interval: String,
    /// Objects under the prefix older than this are stale.
    #[arg(
        long,
        env = "JANITOR_SWEEP_MAX_AGE",
        value_name = "DURATION",
        default_value = "7d"
    )]
    pub sweep_max_age: String,
    /// Where /metrics, /healthz and /readyz listen.
    #[arg(
        long,
        env = "JANITOR_HTTP_ADDR",
        value_name = "ADDR",
        default_value = "0.0.0.0:9090"
    )]
    pub http_addr: String,
    /// Drain time after SIGTERM/SIGINT.
    #[arg(
        long,
        env = "JANITOR_SHUTDOWN_TIMEOUT",
        value_name = "DURATION",
        default_value = "20s"
    )]
    pub shutdown_timeout: String,
    /// Log what would be deleted; delete nothing (messages are left to reappear).
    #[arg(long, env = "JANITOR_DRY_RUN", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub dry_run: Option<String>,
    /// How often queue depths are read for the janitor_queue_messages gauge; 0 disables.
    #[arg(
        long,
        env = "JANITOR_QUEUE_POLL_INTERVAL",
        value_name = "DURATION",
        default_value = "30s"
    )]
    pub queue_poll_interval: String,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Report what would be deleted; delete nothing.
    #[arg(long, env = "JANITOR_DRY_RUN", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub dry_run: Option<String>,
    /// Objects under the prefix older than this are stale.
    #[arg(
        long,
        env = "JANITOR_SWEEP_MAX_AGE",
        value_name = "DURATION",
        default_value = "7d"
    )]
    pub max_age: String,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Show dead-lettered messages with reason and detail, leaving them in place.
    Peek(PeekArgs),
    /// Move dead-lettered messages back to the main queue (send first, then delete).
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct PeekArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// At most this many messages (1-1000).
    #[arg(long, value_name = "N", default_value = "10")]
    pub max: String,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// At most this many messages [default: all].
    #[arg(long, value_name = "N")]
    pub max: Option<String>,
    /// Only messages dead-lettered for this reason (repeatable): invalid_json, invalid_message,
    /// unsupported_version, invalid_url, forbidden_location, delete_rejected, retries_exhausted.
    #[arg(long = "reason", value_name = "R")]
    pub reasons: Vec<String>,
    /// At most this many messages per second.
    #[arg(long, value_name = "PER_SEC")]
    pub rate: Option<String>,
    /// Print what would be moved; move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replay to this queue instead of the main queue.
    #[arg(long, value_name = "QUEUE_URL")]
    pub to: Option<String>,
    /// Stop once the dead-letter queue yields nothing new for this long (advanced).
    #[arg(long, value_name = "DURATION", default_value = "5s", hide = true)]
    pub idle_timeout: String,
    /// How long a received message stays hidden if the replay dies before making it visible
    /// again (advanced; every message not moved is made visible again when the replay ends).
    #[arg(long, value_name = "DURATION", default_value = "30s", hide = true)]
    pub visibility_timeout: String,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Main queue URL (required).
    #[arg(long, env = "JANITOR_QUEUE_URL", value_name = "URL")]
    pub queue_url: Option<String>,
    /// Notion page id to put in the message.
    #[arg(long, value_name = "ID")]
    pub page_id: Option<String>,
    /// Keep note id to put in the message.
    #[arg(long, value_name = "ID")]
    pub note_id: Option<String>,
    /// Log format: json or text.
    #[arg(
        long,
        env = "JANITOR_LOG_FORMAT",
        value_name = "FORMAT",
        default_value = "json"
    )]
    pub log_format: String,
    /// Image URLs (s3://BUCKET/KEY or https URLs).
    #[arg(value_name = "URL", required = true)]
    pub urls: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The settings `run` would use (every option and variable of `run`).
    #[command(flatten)]
    pub run: RunArgs,
    /// One JSON object per check per line on stdout, nothing else on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also prove SendMessage on the dead-letter queue: send a marker message (attribute
    /// janitor.preflight) to it and delete it at once.
    #[arg(long)]
    pub send_probe: bool,
}
