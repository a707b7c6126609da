//! The command line as clap really parses it (`try_parse_from`): every subcommand's defaults,
//! the environment used when no flag is given, and flags beating the environment.
//!
//! clap reads `JANITOR_*` from the process environment at parse time, so the tests that set
//! variables hold [`ENV_LOCK`] and restore what they changed; the defaults are read with every
//! `JANITOR_*` variable removed (under the same lock).

use std::sync::{Mutex, MutexGuard};

use clap::error::ErrorKind;
use clap::Parser;

use super::{Cli, Command, DlqCommand, RunArgs};

static ENV_LOCK: Mutex<()> = Mutex::new(());

/// The environment with exactly `vars` set among the `JANITOR_*` variables, until dropped.
struct ScopedEnv {
    saved: Vec<(String, String)>,
    _lock: MutexGuard<'static, ()>,
}

impl ScopedEnv {
    fn with(vars: &[(&str, &str)]) -> ScopedEnv {
        let lock = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let saved: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("JANITOR_"))
            .collect();
        for (k, _) in &saved {
            std::env::remove_var(k);
        }
        for (k, v) in vars {
            std::env::set_var(k, v);
        }
        ScopedEnv { saved, _lock: lock }
    }
}

impl Drop for ScopedEnv {
    fn drop(&mut self) {
        let set: Vec<String> = std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("JANITOR_"))
            .collect();
        for k in set {
            std::env::remove_var(k);
        }
        for (k, v) in &self.saved {
            std::env::set_var(k, v);
        }
    }
}

fn parse(argv: &[&str]) -> Cli {
    let mut full = vec!["image-janitor"];
    full.extend_from_slice(argv);
    Cli::try_parse_from(full).unwrap_or_else(|e| panic!("{argv:?}: {e}"))
}

fn run(argv: &[&str]) -> RunArgs {
    match parse(argv).command {
        Command::Run(a) => a,
        other => panic!("not run: {other:?}"),
    }
}

/// The contract's defaults (CONTRACT.md §5) for every setting of `run`.
fn assert_run_defaults(a: &RunArgs) {
    assert_eq!(a.concurrency, "4");
    assert_eq!(a.wait_time, "20s");
    assert_eq!(a.visibility_timeout, "60s");
    assert_eq!(a.max_attempts, "5");
    assert_eq!(a.sweep_interval, "1h");
    assert_eq!(a.sweep_max_age, "7d");
    assert_eq!(a.http_addr, "0.0.0.0:9090");
    assert_eq!(a.shutdown_timeout, "20s");
    assert_eq!(a.queue_poll_interval, "30s");
    assert_eq!(a.dry_run, None);
    assert_eq!(a.common.log_format, "json");
    assert_eq!(a.common.audit, "on");
    assert_eq!(a.common.s3_force_path_style, None);
    assert_eq!(a.common.queue_url, None);
    assert_eq!(a.common.dlq_url, None);
    assert_eq!(a.common.buckets, None);
    assert_eq!(a.common.prefix, None);
}

#[test]
fn run_defaults_are_the_contracts() {
    let _env = ScopedEnv::with(&[]);
    assert_run_defaults(&run(&["run"]));
}

#[test]
fn preflight_takes_runs_defaults() {
    let _env = ScopedEnv::with(&[]);
    let Command::Preflight(p) = parse(&["preflight"]).command else {
        panic!("not preflight");
    };
    assert_run_defaults(&p.run);
    assert!(!p.json && !p.send_probe);
    let Command::Preflight(p) = parse(&["preflight", "--json", "--send-probe"]).command else {
        panic!("not preflight");
    };
    assert!(p.json && p.send_probe);
}

#[test]
fn sweep_defaults_and_bare_dry_run_flag() {
    let _env = ScopedEnv::with(&[]);
    let Command::Sweep(s) = parse(&["sweep"]).command else {
        panic!("not sweep");
    };
    assert_eq!(s.max_age, "7d");
    assert_eq!(s.dry_run, None);
    assert_eq!(s.common.log_format, "json");
    let Command::Sweep(s) = parse(&["sweep", "--dry-run", "--max-age", "2d"]).command else {
        panic!("not sweep");
    };
    assert_eq!(s.dry_run.as_deref(), Some("true"));
    assert_eq!(s.max_age, "2d");
}

#[test]
fn dlq_peek_and_replay_defaults() {
    let _env = ScopedEnv::with(&[]);
    let Command::Dlq(DlqCommand::Peek(p)) = parse(&["dlq", "peek"]).command else {
        panic!("not peek");
    };
    assert_eq!(p.max, "10");
    assert!(!p.json);
    let Command::Dlq(DlqCommand::Replay(r)) = parse(&["dlq", "replay"]).command else {
        panic!("not replay");
    };
    assert_eq!(r.max, None);
    assert!(r.reasons.is_empty());
    assert_eq!(r.rate, None);
    assert!(!r.dry_run);
    assert_eq!(r.to, None);
    assert_eq!(r.idle_timeout, "5s");
    assert_eq!(r.visibility_timeout, "30s");
    let Command::Dlq(DlqCommand::Replay(r)) = parse(&[
        "dlq",
        "replay",
        "--max",
        "3",
        "--reason",
        "invalid_url",
        "--reason",
        "retries_exhausted",
        "--rate",
        "2",
        "--dry-run",
    ])
    .command
    else {
        panic!("not replay");
    };
    assert_eq!(r.max.as_deref(), Some("3"));
    assert_eq!(r.reasons, ["invalid_url", "retries_exhausted"]);
    assert_eq!(r.rate.as_deref(), Some("2"));
    assert!(r.dry_run);
}

#[test]
fn publish_needs_a_url_and_takes_ids() {
    let _env = ScopedEnv::with(&[]);
    let err = Cli::try_parse_from(["image-janitor", "publish"]).expect_err("no URL");
    assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
    assert_eq!(err.exit_code(), 2);
    let Command::Publish(p) = parse(&[
        "publish",
        "--page-id",
        "p1",
        "--note-id",
        "n1",
        "s3://b/k1",
        "s3://b/k2",
    ])
    .command
    else {
        panic!("not publish");
    };
    assert_eq!(p.urls, ["s3://b/k1", "s3://b/k2"]);
    assert_eq!(p.page_id.as_deref(), Some("p1"));
    assert_eq!(p.note_id.as_deref(), Some("n1"));
    assert_eq!(p.log_format, "json");
    assert_eq!(p.queue_url, None);
}

#[test]
fn usage_errors_exit_2() {
    let _env = ScopedEnv::with(&[]);
    for argv in [
        vec!["image-janitor"],
        vec!["image-janitor", "nonsense"],
        vec!["image-janitor", "run", "--no-such-flag"],
        vec!["image-janitor", "dlq"],
        vec!["image-janitor", "dlq", "peek", "--max"],
    ] {
        let err = Cli::try_parse_from(&argv).expect_err("a usage error");
        assert_eq!(err.exit_code(), 2, "{argv:?}: {err}");
    }
}

/// Every `run` option: the variable is used without a flag, and the flag beats it.
const RUN_SETTINGS: &[(&str, &str, &str, &str)] = &[
    // (variable, flag, env value, flag value)
    (
        "JANITOR_QUEUE_URL",
        "--queue-url",
        "http://env/1/q",
        "http://flag/1/q",
    ),
    (
        "JANITOR_DLQ_URL",
        "--dlq-url",
        "http://env/1/d",
        "http://flag/1/d",
    ),
    ("JANITOR_BUCKETS", "--buckets", "env-b", "flag-b"),
    ("JANITOR_PREFIX", "--prefix", "env/", "flag/"),
    ("JANITOR_LOG_FORMAT", "--log-format", "text", "json"),
    (
        "JANITOR_S3_FORCE_PATH_STYLE",
        "--s3-force-path-style",
        "false",
        "true",
    ),
    ("JANITOR_AUDIT", "--audit", "off", "on"),
    ("JANITOR_CONCURRENCY", "--concurrency", "7", "9"),
    ("JANITOR_WAIT_TIME", "--wait-time", "3s", "4s"),
    (
        "JANITOR_VISIBILITY_TIMEOUT",
        "--visibility-timeout",
        "90s",
        "95s",
    ),
    ("JANITOR_MAX_ATTEMPTS", "--max-attempts", "6", "8"),
    ("JANITOR_SWEEP_INTERVAL", "--sweep-interval", "2h", "3h"),
    ("JANITOR_SWEEP_MAX_AGE", "--sweep-max-age", "2d", "3d"),
    (
        "JANITOR_HTTP_ADDR",
        "--http-addr",
        "127.0.0.1:1",
        "127.0.0.1:2",
    ),
    ("JANITOR_SHUTDOWN_TIMEOUT", "--shutdown-timeout", "5s", "6s"),
    ("JANITOR_DRY_RUN", "--dry-run", "false", "true"),
    (
        "JANITOR_QUEUE_POLL_INTERVAL",
        "--queue-poll-interval",
        "10s",
        "11s",
    ),
];

fn run_value<'a>(a: &'a RunArgs, flag: &str) -> Option<&'a str> {
    let c = &a.common;
    match flag {
        "--queue-url" => c.queue_url.as_deref(),
        "--dlq-url" => c.dlq_url.as_deref(),
        "--buckets" => c.buckets.as_deref(),
        "--prefix" => c.prefix.as_deref(),
        "--log-format" => Some(&c.log_format),
        "--s3-force-path-style" => c.s3_force_path_style.as_deref(),
        "--audit" => Some(&c.audit),
        "--concurrency" => Some(&a.concurrency),
        "--wait-time" => Some(&a.wait_time),
        "--visibility-timeout" => Some(&a.visibility_timeout),
        "--max-attempts" => Some(&a.max_attempts),
        "--sweep-interval" => Some(&a.sweep_interval),
        "--sweep-max-age" => Some(&a.sweep_max_age),
        "--http-addr" => Some(&a.http_addr),
        "--shutdown-timeout" => Some(&a.shutdown_timeout),
        "--dry-run" => a.dry_run.as_deref(),
        "--queue-poll-interval" => Some(&a.queue_poll_interval),
        other => panic!("unknown flag {other}"),
    }
}

#[test]
fn run_reads_every_variable_and_every_flag_beats_it() {
    let env: Vec<(&str, &str)> = RUN_SETTINGS.iter().map(|(v, _, e, _)| (*v, *e)).collect();
    let _env = ScopedEnv::with(&env);
    let from_env = run(&["run"]);
    for (var, flag, env_value, _) in RUN_SETTINGS {
        assert_eq!(run_value(&from_env, flag), Some(*env_value), "{var} unused");
    }
    let mut argv = vec!["run"];
    for (_, flag, _, flag_value) in RUN_SETTINGS {
        argv.push(flag);
        argv.push(flag_value);
    }
    let from_flags = run(&argv);
    for (var, flag, _, flag_value) in RUN_SETTINGS {
        assert_eq!(
            run_value(&from_flags, flag),
            Some(*flag_value),
            "{flag} did not beat {var}"
        );
    }
}

#[test]
fn sweep_publish_and_dlq_flags_beat_the_environment() {
    let _env = ScopedEnv::with(&[
        ("JANITOR_SWEEP_MAX_AGE", "2d"),
        ("JANITOR_DRY_RUN", "true"),
        ("JANITOR_QUEUE_URL", "http://env/1/q"),
        ("JANITOR_DLQ_URL", "http://env/1/d"),
        ("JANITOR_PREFIX", "env/"),
    ]);
    let Command::Sweep(s) = parse(&["sweep"]).command else {
        panic!("not sweep");
    };
    assert_eq!(
        (s.max_age.as_str(), s.dry_run.as_deref()),
        ("2d", Some("true"))
    );
    assert_eq!(s.common.prefix.as_deref(), Some("env/"));
    let Command::Sweep(s) = parse(&[
        "sweep",
        "--max-age",
        "9d",
        "--dry-run",
        "false",
        "--prefix",
        "flag/",
    ])
    .command
    else {
        panic!("not sweep");
    };
    assert_eq!(s.max_age, "9d");
    assert_eq!(s.dry_run.as_deref(), Some("false"));
    assert_eq!(s.common.prefix.as_deref(), Some("flag/"));

    let Command::Publish(p) = parse(&["publish", "s3://b/k"]).command else {
        panic!("not publish");
    };
    assert_eq!(p.queue_url.as_deref(), Some("http://env/1/q"));
    let Command::Publish(p) =
        parse(&["publish", "--queue-url", "http://flag/1/q", "s3://b/k"]).command
    else {
        panic!("not publish");
    };
    assert_eq!(p.queue_url.as_deref(), Some("http://flag/1/q"));

    let Command::Dlq(DlqCommand::Peek(p)) = parse(&["dlq", "peek"]).command else {
        panic!("not peek");
    };
    assert_eq!(p.common.dlq_url.as_deref(), Some("http://env/1/d"));
    let Command::Dlq(DlqCommand::Replay(r)) =
        parse(&["dlq", "replay", "--dlq-url", "http://flag/1/d"]).command
    else {
        panic!("not replay");
    };
    assert_eq!(r.common.dlq_url.as_deref(), Some("http://flag/1/d"));
}
