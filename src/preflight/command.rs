//! The `image-janitor preflight` entry point: the real SQS and S3 adapters, the checks, the
//! output (text or `--json`, stdout), and the error that `main` maps to exit 1 when any check
//! fails. Configuration was validated before this runs (bad settings exit 2 without any request).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use super::{failures, render, run, Settings, Target};
use crate::config::RunSettings;
use crate::error::AppError;
use crate::queue::sqs::SqsQueue;
use crate::queue::Queue;
use crate::store::s3::S3Store;

/// Run every check against AWS and print them. `Err` (exit 1) when any check failed.
pub async fn preflight(
    run_settings: &RunSettings,
    json: bool,
    send_probe: bool,
) -> Result<(), AppError> {
    // No long polls here but the --send-probe's 1 s receives: the short timeouts of `load_config`.
    let conf = crate::aws::load_config(Duration::from_secs(1)).await;
    let main = SqsQueue::from_conf(&conf, &run_settings.common.queue_url);
    let sibling = main.clone();
    let target = Target {
        main: Arc::new(main),
        open: Arc::new(move |url: &str| -> Arc<dyn Queue> { Arc::new(sibling.sibling(url)) }),
        store: Arc::new(S3Store::from_conf(
            &conf,
            run_settings.common.force_path_style,
        )),
    };
    let settings = Settings::from_run(run_settings, send_probe);
    let checks = run(&target, &settings).await;
    let write_error =
        |e: std::io::Error| AppError::Runtime(format!("cannot write the output: {e}"));
    let mut out = std::io::stdout().lock();
    for c in &checks {
        let line = if json {
            render::json(c)
        } else {
            render::text(c)
        };
        writeln!(out, "{line}").map_err(write_error)?;
    }
    if !json {
        writeln!(out, "{}", render::summary(&checks)).map_err(write_error)?;
    }
    out.flush().map_err(write_error)?;
    match failures(&checks) {
        0 => Ok(()),
        n => Err(AppError::Runtime(format!(
            "preflight: {n} of {} checks failed (see the FAIL lines and their fixes)",
            checks.len()
        ))),
    }
}
