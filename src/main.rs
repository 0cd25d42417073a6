//! `opsconductor`: one binary for every role, the set-up commands, and the CLI.

mod bench;
mod cli;
mod client;
mod dev;
mod handoff;
mod keys;
mod migrate;
mod schemas;
mod server;
mod settings;

use std::process::ExitCode;

use clap::Parser;
use opsc_runtime::ConfigError;

/// mimalloc instead of the system allocator: the pipeline allocates many
/// small buffers across threads, where glibc's allocator spent a fifth of
/// the server's CPU (perf, `bench pipeline`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut cli = cli::Cli::parse();
    // Before any thread starts: a server keeps no secret in its environment.
    let long_running = matches!(cli.command, cli::Command::Server(_) | cli::Command::Dev(_));
    cli.global.env = match handoff::environment(long_running) {
        Ok(env) => env,
        Err(reason) => {
            eprintln!("opsconductor: {reason}");
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("opsconductor: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            // One line naming what is wrong; configuration errors exit 2.
            let config = e.downcast_ref::<ConfigError>().is_some();
            eprintln!("opsconductor: {}", client::http::error_text(&e));
            ExitCode::from(if config { 2 } else { 1 })
        }
    }
}
