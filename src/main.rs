//! The `image-janitor` binary: parse the command line, validate settings, start telemetry,
//! dispatch, and map errors to exit codes (0 ok, 1 runtime failure, 2 usage or configuration).

use std::process::ExitCode;

use clap::Parser;
use image_janitor::cli::{Cli, Command, DlqCommand};
use image_janitor::error::AppError;
use image_janitor::telemetry::{self, LogFormat};
use image_janitor::{app, config, dlq, preflight, publish, shutdown, sweeper};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(AppError::Config(e)) => {
            eprintln!("image-janitor: {e}");
            ExitCode::from(2)
        }
        Err(AppError::Runtime(e)) => {
            eprintln!("image-janitor: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Runtime(format!("cannot start the async runtime: {e}")))
}

fn start_telemetry(format: LogFormat, audit: bool) {
    telemetry::set_audit(audit);
    telemetry::init_tracing(format);
}

fn dispatch(cli: Cli) -> Result<(), AppError> {
    match cli.command {
        Command::Run(args) => {
            let settings = config::run(&args)?;
            start_telemetry(settings.common.log_format, settings.common.audit);
            let handle = telemetry::metrics::install().map_err(|e| {
                AppError::Runtime(format!("cannot install the metrics recorder: {e}"))
            })?;
            telemetry::metrics::init_run(settings.common.policy.buckets(), settings.sweep.interval);
            runtime()?.block_on(app::run(settings, shutdown::signal(), Some(handle)))
        }
        Command::Sweep(args) => {
            let (common, settings) = config::sweep(&args)?;
            start_telemetry(common.log_format, common.audit);
            runtime()?.block_on(sweeper::command::sweep(
                &common,
                &settings,
                shutdown::signal(),
            ))
        }
        Command::Dlq(DlqCommand::Peek(args)) => {
            let (common, settings) = config::peek(&args)?;
            start_telemetry(common.log_format, common.audit);
            runtime()?.block_on(dlq::command::peek(&common, &settings))
        }
        Command::Dlq(DlqCommand::Replay(args)) => {
            let (common, settings) = config::replay(&args)?;
            start_telemetry(common.log_format, common.audit);
            runtime()?.block_on(dlq::command::replay(&common, &settings))
        }
        Command::Preflight(args) => {
            let settings = config::run(&args.run)?;
            start_telemetry(settings.common.log_format, settings.common.audit);
            runtime()?.block_on(preflight::command::preflight(
                &settings,
                args.json,
                args.send_probe,
            ))
        }
        Command::Publish(args) => {
            let format = config::log_format_only(&args.log_format)?;
            let queue_url = config::required_queue_url(args.queue_url.as_deref())?;
            start_telemetry(format, true);
            runtime()?.block_on(publish::command::publish(
                queue_url,
                args.page_id.as_deref(),
                args.note_id.as_deref(),
                &args.urls,
            ))
        }
    }
}
