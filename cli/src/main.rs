//! `keycustody`: the command-line tool.
//!
//! Each subcommand family lives in its own module with its own `Args`; this file
//! only dispatches. Exit codes: one policy for every command family, in
//! `keycustody_cli::vm` (`EXIT_*`, printed by `--help`): 0 ok, 1 a job finished with
//! failures, 2 usage or bad input, 3 refused (integrity or safety), 4 not found, 5 I/O.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use keycustody_cli::{audit, proxy, vault};
use std::process::ExitCode;

mod common;
mod demo;
mod envelope;
mod jobs;
mod kek;
mod keys;
mod tenants;

/// Secrets and key custody for multi-tenant platforms.
#[derive(Parser, Debug)]
#[command(name = "keycustody", version, about, long_about = None, after_help = keycustody_cli::vm::EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Keyring management: generate, add, promote, rotate, retire, list.
    #[command(subcommand)]
    Keys(keys::Command),
    /// Seal stdin into a kc1 envelope (printed on stdout).
    Seal(envelope::SealArgs),
    /// Open a kc1 envelope from stdin (plaintext on stdout).
    Open(envelope::OpenArgs),
    /// Show an envelope's version, key id and plaintext length (no key needed).
    Inspect(envelope::InspectArgs),
    /// Re-seal every envelope of a table column under the primary key (crash-safe, resumable).
    Rewrap(jobs::RewrapArgs),
    /// Convert legacy ciphertexts (PBKDF2+AES-GCM blobs, openssl enc files) into kc1.
    Migrate(jobs::MigrateArgs),
    /// Count the envelopes per key id in a table column.
    Scan(jobs::ScanArgs),
    /// The main job end to end on SQLite: seal 100k secrets, rotate, rewrap, verify, retire.
    Demo(demo::DemoArgs),
    /// Tenant keyrings: create, rotate, shred (crypto-shredding), list, census.
    #[command(subcommand)]
    Tenants(tenants::Command),
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
    let result: Result<ExitCode, common::CliError> = match cli.command {
        Command::Keys(c) => keys::run(c),
        Command::Seal(a) => envelope::seal(a),
        Command::Open(a) => envelope::open(a),
        Command::Inspect(a) => envelope::inspect(a),
        Command::Rewrap(a) => jobs::rewrap(a),
        Command::Migrate(a) => jobs::migrate(a),
        Command::Scan(a) => jobs::scan(a),
        Command::Demo(a) => demo::run(a),
        Command::Tenants(c) => tenants::run(c),
        Command::Vault(c) => vault::run(c).map_err(Into::into),
        Command::Audit(c) => audit::run(c).map_err(Into::into),
        Command::Proxy(a) => proxy::run(a).map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keycustody: {}", e.msg);
            ExitCode::from(e.code)
        }
    }
}
