//! `keycustody`: the command-line tool.
//!
//! Each subcommand family lives in its own module with its own `Args`; this file
//! only dispatches. Exit codes: 0 ok, 1 a job finished with failures (e.g. rows
//! that would not open), 2 usage or input error, 3 refused (e.g. retire while
//! envelopes remain, insecure key file).
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod audit;
mod proxy;
mod vault;

/// Secrets and key custody for multi-tenant platforms.
#[derive(Parser, Debug)]
#[command(name = "keycustody", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Encrypted per-VM vault of secrets, with environment injection.
    #[command(subcommand)]
    Vault(vault::Command),
    /// Tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::Command),
    /// LLM auth proxy that injects provider keys from the vault.
    Proxy(proxy::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Vault(c) => vault::run(c),
        Command::Audit(c) => audit::run(c),
        Command::Proxy(a) => proxy::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keycustody: {e}");
            ExitCode::from(2)
        }
    }
}
