//! Unit tests of settings validation: every bad value names its setting, in one line.

use super::*;
use crate::cli::{PeekArgs, ReplayArgs};
use crate::reason::Reason;

#[test]
fn durations() {
    assert_eq!(
        parse_duration("X", "500ms").unwrap(),
        Duration::from_millis(500)
    );
    assert_eq!(parse_duration("X", "20s").unwrap(), Duration::from_secs(20));
    assert_eq!(parse_duration("X", "5m").unwrap(), Duration::from_secs(300));
    assert_eq!(
        parse_duration("X", "1h").unwrap(),
        Duration::from_secs(3600)
    );
    assert_eq!(
        parse_duration("X", "7d").unwrap(),
        Duration::from_secs(7 * 86400)
    );
    assert_eq!(parse_duration("X", "0").unwrap(), Duration::ZERO);
    let e = parse_duration("JANITOR_WAIT_TIME", "soon").unwrap_err();
    assert_eq!(e.setting, "JANITOR_WAIT_TIME");
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn bools_and_counts() {
    assert!(parse_bool("X", "TRUE").unwrap());
    assert!(!parse_bool("X", "off").unwrap());
    assert!(parse_bool("X", "maybe").is_err());
    assert_eq!(parse_count::<u32>("X", "5", 1, 10).unwrap(), 5);
    assert!(parse_count::<u32>("X", "0", 1, 10).is_err());
    assert!(parse_count::<u32>("X", "-1", 1, 10).is_err());
}

#[test]
fn bucket_names() {
    assert!(valid_bucket_name("keep-notion-sync-images"));
    assert!(valid_bucket_name("a.b.c"));
    assert!(!valid_bucket_name("ab"));
    assert!(!valid_bucket_name("Upper"));
    assert!(!valid_bucket_name("-dash"));
}

/// One rule for both paths: a name `JANITOR_BUCKETS` refuses is a name no image URL may carry.
#[test]
fn a_double_dot_bucket_is_refused_by_config_and_by_urls() {
    let mut args = run_args();
    args.common.buckets = Some("b-one,a..b".into());
    let err = run(&args).expect_err("a..b is not a bucket name");
    assert_eq!(err.setting, "JANITOR_BUCKETS");
    assert!(err.to_string().contains("\"a..b\""), "{err}");
    let err = crate::s3url::parse_url("s3://a..b/keep-images/x.jpg", None).expect_err("a..b");
    assert!(err.contains("invalid bucket name"), "{err}");
    // The lease bucket (environment only) follows the same rule.
    let lease_env = |name: &str| (name == "JANITOR_SWEEP_LEASE_BUCKET").then(|| "a..b".to_string());
    let err = run_in(&run_args(), &lease_env).expect_err("a..b lease bucket");
    assert_eq!(err.setting, "JANITOR_SWEEP_LEASE_BUCKET");
}

fn run_args() -> RunArgs {
    RunArgs {
        common: CommonArgs {
            queue_url: Some("http://127.0.0.1:5000/123456789012/q".into()),
            dlq_url: None,
            buckets: Some("b-one, b-two".into()),
            prefix: Some("keep-images/".into()),
            log_format: "json".into(),
            s3_force_path_style: None,
            audit: "on".into(),
        },
        concurrency: "4".into(),
        wait_time: "20s".into(),
        visibility_timeout: "60s".into(),
        max_attempts: "5".into(),
        sweep_interval: "1h".into(),
        sweep_max_age: "7d".into(),
        http_addr: "0.0.0.0:9090".into(),
        shutdown_timeout: "20s".into(),
        dry_run: None,
        queue_poll_interval: "30s".into(),
    }
}

#[test]
fn defaults_validate() {
    let s = run(&run_args()).unwrap();
    assert_eq!(s.concurrency.get(), 4);
    assert_eq!(s.common.policy.buckets().count(), 2);
    assert_eq!(s.sweep.lease.bucket, "b-one");
    assert_eq!(s.sweep.interval, Some(Duration::from_secs(3600)));
}

#[test]
fn each_bad_value_names_its_setting() {
    type Mutation = Box<dyn Fn(&mut RunArgs)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "JANITOR_WAIT_TIME",
            Box::new(|a| a.wait_time = "21s".into()),
        ),
        (
            "JANITOR_WAIT_TIME",
            Box::new(|a| a.wait_time = "1500ms".into()),
        ),
        (
            "JANITOR_VISIBILITY_TIMEOUT",
            Box::new(|a| a.visibility_timeout = "1s".into()),
        ),
        (
            "JANITOR_CONCURRENCY",
            Box::new(|a| a.concurrency = "0".into()),
        ),
        (
            "JANITOR_MAX_ATTEMPTS",
            Box::new(|a| a.max_attempts = "x".into()),
        ),
        (
            "JANITOR_HTTP_ADDR",
            Box::new(|a| a.http_addr = "nowhere".into()),
        ),
        (
            "JANITOR_SWEEP_MAX_AGE",
            Box::new(|a| a.sweep_max_age = "0".into()),
        ),
        (
            "JANITOR_QUEUE_URL",
            Box::new(|a| a.common.queue_url = Some("not a url".into())),
        ),
        ("JANITOR_QUEUE_URL", Box::new(|a| a.common.queue_url = None)),
        (
            "JANITOR_BUCKETS",
            Box::new(|a| a.common.buckets = Some(" , ".into())),
        ),
        (
            "JANITOR_BUCKETS",
            Box::new(|a| a.common.buckets = Some("Bad_Bucket".into())),
        ),
        (
            "JANITOR_LOG_FORMAT",
            Box::new(|a| a.common.log_format = "xml".into()),
        ),
        (
            "JANITOR_AUDIT",
            Box::new(|a| a.common.audit = "loud".into()),
        ),
        (
            "JANITOR_DRY_RUN",
            Box::new(|a| a.dry_run = Some("perhaps".into())),
        ),
    ];
    for (setting, mutate) in cases {
        let mut a = run_args();
        mutate(&mut a);
        let err = run(&a).expect_err(setting);
        assert_eq!(err.setting, setting, "{err}");
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn lease_defaults_to_the_first_bucket_as_listed_not_sorted() {
    let mut a = run_args();
    a.common.buckets = Some(" zz-main-bucket , aa-extra".into());
    assert_eq!(run(&a).unwrap().sweep.lease.bucket, "zz-main-bucket");
}

#[test]
fn lease_ttl_defaults_to_2m_and_must_be_at_least_2s() {
    assert_eq!(lease_ttl_from(None).unwrap(), Duration::from_secs(120));
    assert_eq!(lease_ttl_from(Some(" ")).unwrap(), Duration::from_secs(120));
    assert_eq!(lease_ttl_from(Some("4s")).unwrap(), Duration::from_secs(4));
    assert_eq!(lease_ttl_from(Some("2s")).unwrap(), Duration::from_secs(2));
    for raw in ["1s", "1999ms", "0", "soon"] {
        let e = lease_ttl_from(Some(raw)).expect_err(raw);
        assert_eq!(e.setting, "JANITOR_SWEEP_LEASE_TTL");
    }
}

#[test]
fn explicit_empty_prefix_is_allowed() {
    let mut a = run_args();
    a.common.prefix = Some(String::new());
    let s = run(&a).unwrap();
    assert_eq!(s.common.policy.prefix(), "");
}

fn replay_args() -> ReplayArgs {
    ReplayArgs {
        common: CommonArgs {
            queue_url: Some("http://127.0.0.1:5000/123456789012/q".into()),
            log_format: "json".into(),
            audit: "on".into(),
            ..CommonArgs::default()
        },
        max: None,
        reasons: Vec::new(),
        rate: None,
        dry_run: false,
        to: None,
        idle_timeout: "5s".into(),
        visibility_timeout: "30s".into(),
    }
}

#[test]
fn dlq_commands_need_no_buckets_or_prefix() {
    let (common, s) = replay(&replay_args()).unwrap();
    assert_eq!(common.queue_url, "http://127.0.0.1:5000/123456789012/q");
    assert_eq!(s.options.max, None);
    assert_eq!(s.options.idle, Duration::from_secs(5));
    let mut a = replay_args();
    a.max = Some("1000".into());
    a.reasons = vec![
        "delete_rejected".into(),
        "invalid_url".into(),
        "delete_rejected".into(),
    ];
    a.rate = Some("0.5".into());
    a.to = Some("http://127.0.0.1:5000/123456789012/other".into());
    let (_, s) = replay(&a).unwrap();
    assert_eq!(s.options.max, Some(1000));
    assert_eq!(
        s.options.reasons,
        [Reason::DeleteRejected, Reason::InvalidUrl]
    );
    assert_eq!(s.options.rate, Some(0.5));
    assert!(s.to.is_some());
}

#[test]
fn bad_dlq_flags_name_the_flag() {
    type Mutate = Box<dyn Fn(&mut ReplayArgs)>;
    let cases: Vec<(&str, Mutate)> = vec![
        ("--max", Box::new(|a| a.max = Some("0".into()))),
        ("--max", Box::new(|a| a.max = Some("ten".into()))),
        (
            "--reason",
            Box::new(|a| a.reasons = vec!["delete_rejected".into(), "oops".into()]),
        ),
        ("--rate", Box::new(|a| a.rate = Some("0".into()))),
        ("--rate", Box::new(|a| a.rate = Some("NaN".into()))),
        ("--rate", Box::new(|a| a.rate = Some("fast".into()))),
        ("--to", Box::new(|a| a.to = Some("queue".into()))),
        ("--idle-timeout", Box::new(|a| a.idle_timeout = "0".into())),
        (
            "--visibility-timeout",
            Box::new(|a| a.visibility_timeout = "1s".into()),
        ),
        (
            "--visibility-timeout",
            Box::new(|a| {
                a.rate = Some("0.1".into());
                a.visibility_timeout = "10s".into();
            }),
        ),
        ("JANITOR_QUEUE_URL", Box::new(|a| a.common.queue_url = None)),
    ];
    for (setting, mutate) in cases {
        let mut a = replay_args();
        mutate(&mut a);
        let err = replay(&a).expect_err(setting);
        assert_eq!(err.setting, setting, "{err}");
        assert!(!err.to_string().contains('\n'));
    }
    let peek_args = |max: &str| PeekArgs {
        common: replay_args().common,
        max: max.into(),
        json: false,
    };
    assert_eq!(peek(&peek_args("10")).unwrap().1.max, 10);
    assert_eq!(peek(&peek_args("0")).unwrap_err().setting, "--max");
    assert_eq!(peek(&peek_args("1001")).unwrap_err().setting, "--max");
}

#[test]
fn a_dlq_that_is_the_main_queue_is_refused_before_any_aws_call() {
    let mut a = run_args();
    // The same queue, spelled differently (localhost vs 127.0.0.1, trailing slash).
    a.common.dlq_url = Some("http://localhost:5000/123456789012/q/".into());
    assert_eq!(run(&a).unwrap_err().setting, "JANITOR_DLQ_URL");
    let mut r = replay_args();
    r.common.dlq_url = Some("http://127.0.0.1:5000/123456789012/q".into());
    assert_eq!(replay(&r).unwrap_err().setting, "JANITOR_DLQ_URL");
    a.common.dlq_url = Some("http://127.0.0.1:5000/123456789012/q-dlq".into());
    assert!(run(&a).is_ok());
}

#[test]
fn every_duration_has_an_upper_bound() {
    type Mutation = Box<dyn Fn(&mut RunArgs)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "JANITOR_SWEEP_INTERVAL",
            Box::new(|a| a.sweep_interval = "8000y".into()),
        ),
        (
            "JANITOR_SWEEP_MAX_AGE",
            Box::new(|a| a.sweep_max_age = "8000y".into()),
        ),
        (
            "JANITOR_SHUTDOWN_TIMEOUT",
            Box::new(|a| a.shutdown_timeout = "8000y".into()),
        ),
        (
            "JANITOR_QUEUE_POLL_INTERVAL",
            Box::new(|a| a.queue_poll_interval = "8000y".into()),
        ),
        (
            "JANITOR_VISIBILITY_TIMEOUT",
            Box::new(|a| a.visibility_timeout = "8000y".into()),
        ),
        (
            "JANITOR_WAIT_TIME",
            Box::new(|a| a.wait_time = "8000y".into()),
        ),
    ];
    for (setting, mutate) in cases {
        let mut a = run_args();
        mutate(&mut a);
        let err = run(&a).expect_err(setting);
        assert_eq!(err.setting, setting, "{err}");
    }
    let env = |k: &str| (k == "JANITOR_SWEEP_LEASE_TTL").then(|| "8000y".to_string());
    assert_eq!(
        run_in(&run_args(), &env).unwrap_err().setting,
        "JANITOR_SWEEP_LEASE_TTL"
    );
    // The largest allowed values still validate.
    let mut a = run_args();
    a.sweep_interval = "30d".into();
    a.sweep_max_age = "3650d".into();
    a.queue_poll_interval = "1d".into();
    let env = |k: &str| (k == "JANITOR_SWEEP_LEASE_TTL").then(|| "1d".to_string());
    assert!(run_in(&a, &env).is_ok());
}

mod property {
    use std::collections::HashMap;

    use clap::Parser;
    use proptest::prelude::*;

    use super::*;
    use crate::cli::{Cli, Command, SweepArgs};

    /// Anything at all, and things that look like the values these settings take.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[0-9]{1,30}(ns|us|ms|s|m|h|d|w|M|y)?",
            "[0-9]{1,4}(h|m|s)[0-9]{1,4}(ms|s)?",
            "-?[0-9]{1,12}(\\.[0-9]{1,4})?",
            "(true|false|on|off|yes|no|json|text|0|1| )",
            "(http|https|s3)://[a-z0-9.:-]{0,20}/[0-9]{0,12}/[a-z-]{0,10}",
            "[ -~]{0,24}",
            Just(String::new()),
        ]
    }

    const ENV_ONLY: [&str; 5] = [
        "JANITOR_SWEEP_LEASE_TTL",
        "JANITOR_SWEEP_LEASE_BUCKET",
        "JANITOR_SWEEP_LEASE_KEY",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
    ];

    fn named(e: &ConfigError) -> bool {
        !e.to_string().contains('\n')
            && (e.setting.starts_with("JANITOR_")
                || e.setting.starts_with("AWS_ENDPOINT_URL")
                || e.setting.starts_with("--"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Any string in any setting: valid settings, or one line naming the setting (exit 2);
        /// never a panic.
        #[test]
        fn any_value_of_any_setting_validates_or_names_the_setting(
            v in proptest::collection::vec(value(), 23),
            present in proptest::collection::vec(any::<bool>(), 23),
        ) {
            let pick = |i: usize| present[i].then(|| v[i].clone());
            let mut a = run_args();
            let d = run_args();
            a.common.queue_url = pick(0).or(d.common.queue_url);
            a.common.dlq_url = pick(1);
            a.common.buckets = pick(2).or(d.common.buckets);
            a.common.prefix = pick(3).or(d.common.prefix);
            a.common.log_format = pick(4).unwrap_or(d.common.log_format);
            a.common.s3_force_path_style = pick(5);
            a.common.audit = pick(6).unwrap_or(d.common.audit);
            a.concurrency = pick(7).unwrap_or(d.concurrency);
            a.wait_time = pick(8).unwrap_or(d.wait_time);
            a.visibility_timeout = pick(9).unwrap_or(d.visibility_timeout);
            a.max_attempts = pick(10).unwrap_or(d.max_attempts);
            a.sweep_interval = pick(11).unwrap_or(d.sweep_interval);
            a.sweep_max_age = pick(12).unwrap_or(d.sweep_max_age);
            a.http_addr = pick(13).unwrap_or(d.http_addr);
            a.shutdown_timeout = pick(14).unwrap_or(d.shutdown_timeout);
            a.dry_run = pick(15);
            a.queue_poll_interval = pick(16).unwrap_or(d.queue_poll_interval);
            let env: HashMap<&str, String> = ENV_ONLY
                .iter()
                .enumerate()
                .filter_map(|(i, k)| pick(17 + i).map(|val| (*k, val)))
                .collect();
            let env_fn = |k: &str| env.get(k).cloned();
            match run_in(&a, &env_fn) {
                Err(e) => prop_assert!(named(&e), "{e}"),
                // What validates is safe to compute with (the sweeper's cutoff, the lease's
                // expiry): no overflow panic later.
                Ok(s) => {
                    prop_assert!(std::time::SystemTime::now().checked_sub(s.sweep.max_age).is_some());
                    let ttl = time::Duration::try_from(s.sweep.lease_ttl).ok();
                    prop_assert!(ttl.and_then(|t| time::OffsetDateTime::now_utc().checked_add(t)).is_some());
                }
            }
            let sweep = SweepArgs {
                common: a.common.clone(),
                dry_run: a.dry_run.clone(),
                max_age: a.sweep_max_age.clone(),
            };
            if let Err(e) = sweep_in(&sweep, &env_fn) {
                prop_assert!(named(&e), "{e}");
            }
            let mut r = replay_args();
            r.common = a.common.clone();
            r.max = pick(22);
            r.rate = pick(21);
            r.idle_timeout = pick(20).unwrap_or(r.idle_timeout);
            r.visibility_timeout = pick(19).unwrap_or(r.visibility_timeout);
            if let Err(e) = replay(&r) {
                prop_assert!(named(&e), "{e}");
            }
        }

        /// The same through clap, as flags: clap refuses (exit 2) or config validates.
        #[test]
        fn any_flag_value_parses_or_is_refused(v in proptest::collection::vec(value(), 6)) {
            let argv = [
                "image-janitor", "run",
                "--queue-url", "http://127.0.0.1:5000/123456789012/q",
                "--buckets", "b-one", "--prefix", "keep-images/",
                "--wait-time", &v[0], "--visibility-timeout", &v[1],
                "--sweep-interval", &v[2], "--sweep-max-age", &v[3],
                "--shutdown-timeout", &v[4], "--concurrency", &v[5],
            ];
            if let Ok(cli) = Cli::try_parse_from(argv) {
                let Command::Run(args) = cli.command else {
                    return Err(TestCaseError::fail("not run"));
                };
                if let Err(e) = run_in(&args, &|_: &str| None) {
                    prop_assert!(named(&e), "{e}");
                }
            }
        }
    }
}

/// Every `JANITOR_*` variable config reads is either a flag's `env` or listed in the
/// environment-only block of `--help` (what scripts/check_settings.py derives the settings from).
#[test]
fn every_variable_config_reads_is_shown_by_help() {
    use clap::CommandFactory;
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    fn envs(cmd: &clap::Command, out: &mut BTreeSet<String>) {
        for arg in cmd.get_arguments() {
            if let Some(name) = arg.get_env() {
                out.insert(name.to_string_lossy().into_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            envs(sub, out);
        }
    }
    let mut shown = BTreeSet::new();
    envs(&crate::cli::Cli::command(), &mut shown);
    let env_only: BTreeSet<String> = crate::cli::ENV_ONLY_HELP
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .filter(|w| w.starts_with("JANITOR_"))
        .map(str::to_owned)
        .collect();
    assert!(env_only.contains("JANITOR_SWEEP_LEASE_TTL"), "{env_only:?}");

    let asked = RefCell::new(BTreeSet::new());
    let env = |name: &str| {
        asked.borrow_mut().insert(name.to_owned());
        None
    };
    run_in(&run_args(), &env).expect("defaults validate");
    let sweep = SweepArgs {
        common: run_args().common,
        dry_run: None,
        max_age: "7d".into(),
    };
    sweep_in(&sweep, &env).expect("defaults validate");
    let asked = asked.into_inner();
    assert!(asked.contains("JANITOR_SWEEP_LEASE_KEY"), "{asked:?}");
    for name in asked.iter().filter(|n| n.starts_with("JANITOR_")) {
        assert!(
            shown.contains(name) || env_only.contains(name),
            "config reads {name}, which no flag's env nor ENV_ONLY_HELP names"
        );
    }
}

/// An environment of fixed values, for the environment-only settings.
fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_string())
    }
}

#[test]
fn process_env_reads_the_process_environment() {
    // PATH is set wherever cargo runs the tests.
    let path = process_env("PATH").expect("PATH is set");
    assert!(!path.is_empty());
    assert_eq!(Some(path), std::env::var("PATH").ok());
    assert_eq!(process_env("JANITOR_TEST_SURELY_UNSET_VARIABLE"), None);
}

#[test]
fn a_queue_url_is_http_or_https_with_a_host() {
    assert_eq!(
        required_queue_url(Some(" https://sqs.eu-west-1.amazonaws.com/1/q ")),
        Ok("https://sqs.eu-west-1.amazonaws.com/1/q".to_string())
    );
    for bad in [
        "ftp://sqs.example/1/q",
        "s3://bkt/q",
        "mailto:ops@example.com",
    ] {
        let e = required_queue_url(Some(bad)).expect_err(bad);
        assert_eq!(e.setting, "JANITOR_QUEUE_URL");
        assert!(e.problem.contains("expected an http(s) queue URL"), "{e}");
    }
    // Blank is "required", not "not a URL".
    for blank in [None, Some(""), Some("  ")] {
        let e = required_queue_url(blank).expect_err("blank");
        assert!(e.problem.starts_with("required"), "{blank:?}: {e}");
    }
}

#[test]
fn the_prefix_comes_from_the_flag_or_an_explicit_environment_value() {
    let s = run(&run_args()).unwrap();
    assert_eq!(s.common.policy.prefix(), "keep-images/");
    let mut a = run_args();
    a.common.prefix = None;
    let e = run_in(&a, &env_of(&[])).expect_err("no prefix");
    assert_eq!(e.setting, "JANITOR_PREFIX");
    let s = run_in(&a, &env_of(&[("JANITOR_PREFIX", "")])).unwrap();
    assert_eq!(s.common.policy.prefix(), "");
}

#[test]
fn the_prefix_is_at_most_1024_bytes_without_control_characters() {
    let mut a = run_args();
    a.common.prefix = Some("p".repeat(1024));
    assert_eq!(run(&a).unwrap().common.policy.prefix().len(), 1024);
    for bad in ["p".repeat(1025), "keep\timages/".to_string()] {
        a.common.prefix = Some(bad.clone());
        assert_eq!(run(&a).unwrap_err().setting, "JANITOR_PREFIX", "{bad:?}");
    }
}

#[test]
fn the_s3_endpoint_comes_from_aws_endpoint_url_s3_then_aws_endpoint_url() {
    let endpoint = |pairs| {
        common(&run_args().common, &env_of(pairs)).map(|c| c.s3_endpoint.map(|e| e.to_string()))
    };
    assert_eq!(endpoint(&[]), Ok(None));
    assert_eq!(
        endpoint(&[("AWS_ENDPOINT_URL", "http://LocalHost:4566")]),
        Ok(Some("localhost:4566".to_string()))
    );
    assert_eq!(
        endpoint(&[
            ("AWS_ENDPOINT_URL_S3", "http://s3.local:9000"),
            ("AWS_ENDPOINT_URL", "http://other:1"),
        ]),
        Ok(Some("s3.local:9000".to_string()))
    );
    // Blank is unset: the general variable applies.
    assert_eq!(
        endpoint(&[
            ("AWS_ENDPOINT_URL_S3", " "),
            ("AWS_ENDPOINT_URL", "http://other:1"),
        ]),
        Ok(Some("other:1".to_string()))
    );
    // A bad value names the variable it came from.
    const BAD: &str = "http://localhost:4566/path";
    let e = endpoint(&[("AWS_ENDPOINT_URL_S3", BAD)]).unwrap_err();
    assert_eq!(e.setting, "AWS_ENDPOINT_URL_S3");
    let e = endpoint(&[("AWS_ENDPOINT_URL", BAD)]).unwrap_err();
    assert_eq!(e.setting, "AWS_ENDPOINT_URL");
}

#[test]
fn the_lease_location_comes_from_the_environment_outside_the_prefix() {
    let lease = |pairs| run_in(&run_args(), &env_of(pairs)).map(|s| s.sweep.lease);
    let at = |bucket: &str, key: &str| LeaseLocation {
        bucket: bucket.into(),
        key: key.into(),
    };
    assert_eq!(lease(&[]), Ok(at("b-one", "image-janitor/sweeper.lease")));
    assert_eq!(
        lease(&[
            ("JANITOR_SWEEP_LEASE_BUCKET", " locks-bucket "),
            ("JANITOR_SWEEP_LEASE_KEY", " locks/janitor.lease "),
        ]),
        Ok(at("locks-bucket", "locks/janitor.lease"))
    );
    // Blank is unset: the defaults apply.
    assert_eq!(
        lease(&[
            ("JANITOR_SWEEP_LEASE_BUCKET", "  "),
            ("JANITOR_SWEEP_LEASE_KEY", "  "),
        ]),
        Ok(at("b-one", "image-janitor/sweeper.lease"))
    );
    let e = lease(&[("JANITOR_SWEEP_LEASE_KEY", "keep-images/sweeper.lease")]).unwrap_err();
    assert_eq!(e.setting, "JANITOR_SWEEP_LEASE_KEY");
}

#[test]
fn shutdown_timeout_and_queue_poll_interval() {
    let mut a = run_args();
    a.shutdown_timeout = "1h".into();
    assert_eq!(run(&a).unwrap().shutdown_timeout, Duration::from_secs(3600));
    a.shutdown_timeout = "3601s".into();
    assert_eq!(run(&a).unwrap_err().setting, "JANITOR_SHUTDOWN_TIMEOUT");
    let mut a = run_args();
    assert_eq!(
        run(&a).unwrap().queue_poll_interval,
        Some(Duration::from_secs(30))
    );
    a.queue_poll_interval = "0".into();
    assert_eq!(run(&a).unwrap().queue_poll_interval, None);
}

#[test]
fn replay_hold_is_at_least_three_waits_at_the_rate() {
    // At 0.1 messages a second a message waits up to 10 s: the hold must be at least 30 s.
    let hold = |rate: &str, vis: &str| {
        let mut a = replay_args();
        a.rate = Some(rate.into());
        a.visibility_timeout = vis.into();
        replay(&a).map(|(_, s)| s.options.hold)
    };
    assert_eq!(hold("0.1", "30s"), Ok(Duration::from_secs(30)));
    for vis in ["29s", "20s"] {
        let e = hold("0.1", vis).expect_err(vis);
        assert_eq!(e.setting, "--visibility-timeout");
        assert!(e.problem.contains("at least 30s"), "{e}");
    }
    // Faster than one a second, the wait is 1 s: 3 s is enough.
    assert_eq!(hold("50", "3s"), Ok(Duration::from_secs(3)));
    assert!(hold("50", "2s").is_err());
}

#[test]
fn replay_to_must_not_be_blank() {
    let mut a = replay_args();
    a.to = Some("  ".into());
    let e = replay(&a).unwrap_err();
    assert_eq!(e.setting, "--to");
    assert!(e.problem.contains("empty string"), "{e}");
}
