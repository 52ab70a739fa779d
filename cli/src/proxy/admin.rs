//! `keycustody proxy token issue|list|revoke`: manage per-agent proxy tokens.

use super::tokens::{self, TokenEntry};
use crate::vault::{fsutil, VmError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the routes and tokens files are.
#[derive(clap::Args, Debug, Clone)]
pub struct Files {
    /// The routes file (JSON) the proxy serves.
    #[arg(long)]
    pub routes: PathBuf,
    /// The tokens file (mode 0600) [default: <routes>.tokens].
    #[arg(long, env = "KEYCUSTODY_PROXY_TOKENS")]
    pub tokens: Option<PathBuf>,
}

impl Files {
    /// The tokens file path.
    pub fn tokens_path(&self) -> PathBuf {
        tokens_path(&self.routes, self.tokens.as_deref())
    }
}

/// `<routes>.tokens` unless given.
pub fn tokens_path(routes: &Path, tokens: Option<&Path>) -> PathBuf {
    tokens.map_or_else(
        || {
            let mut s = routes.as_os_str().to_owned();
            s.push(".tokens");
            PathBuf::from(s)
        },
        Path::to_path_buf,
    )
}

/// Token subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a token for an agent; it is printed once (stdout) and stored hashed.
    Issue {
        #[command(flatten)]
        files: Files,
        /// The agent's name (recorded as the actor of its audit entries).
        #[arg(long)]
        agent: String,
        /// A route the token may use (repeatable).
        #[arg(long = "route", value_name = "ROUTE", required = true)]
        grant: Vec<String>,
    },
    /// List tokens (agent, hint, routes, created; never a token).
    List {
        #[command(flatten)]
        files: Files,
    },
    /// Revoke the token of an agent (or the one with a given hint).
    Revoke {
        #[command(flatten)]
        files: Files,
        /// The agent whose token is revoked.
        #[arg(long, required_unless_present = "hint")]
        agent: Option<String>,
        /// The hint of the token to revoke (`kcp_Ab12…wXyZ`).
        #[arg(long)]
        hint: Option<String>,
    },
}

fn usage(e: impl Into<String>) -> VmError {
    VmError::Usage(e.into())
}

fn read_routes(
    path: &Path,
) -> Result<std::collections::BTreeMap<String, super::routes::Route>, VmError> {
    let text = fsutil::read_limited(path, super::routes::MAX_ROUTES_FILE)
        .map_err(|e| usage(format!("cannot read routes file {}: {e}", path.display())))?;
    let text = String::from_utf8(text).map_err(|_| usage("routes file is not UTF-8"))?;
    super::routes::parse(&text).map_err(VmError::Usage)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs a token subcommand.
///
/// # Errors
/// [`VmError::Usage`] naming what is wrong (never a token); nothing is written then.
pub fn run(c: TokenCommand) -> Result<ExitCode, VmError> {
    match c {
        TokenCommand::Issue {
            files,
            agent,
            grant: routes,
        } => {
            if !tokens::valid_agent_name(&agent) {
                return Err(usage(
                    "agent names must match [A-Za-z0-9][A-Za-z0-9_.-]* (at most 64)",
                ));
            }
            let known = read_routes(&files.routes)?;
            for r in &routes {
                if !known.contains_key(r) {
                    return Err(usage(format!(
                        "route {r:?} does not exist in {}",
                        files.routes.display()
                    )));
                }
            }
            let mut routes = routes;
            routes.sort();
            routes.dedup();
            let path = files.tokens_path();
            let _lock = fsutil::lock(&path)?;
            let mut t = tokens::load(&path, true).map_err(usage)?;
            let g = keycustody::generate_api_key(tokens::PREFIX)?;
            t.add(TokenEntry {
                agent: agent.clone(),
                hash: g.hash.clone(),
                hint: g.hint.clone(),
                routes: routes.clone(),
                created: now(),
            })
            .map_err(|e| usage(e.0))?;
            fsutil::write_atomic(&path, t.to_text().as_bytes(), 0o600)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", g.key.expose_secret())?;
            out.flush()?;
            eprintln!(
                "keycustody proxy: issued token {} for agent {agent} (routes: {}) in {}; it is shown once",
                g.hint,
                routes.join(","),
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { files } => {
            let path = files.tokens_path();
            let t = tokens::load(&path, false).map_err(usage)?;
            let mut out = std::io::stdout().lock();
            for e in t.entries() {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    e.agent,
                    e.hint,
                    e.routes.join(","),
                    e.created
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { files, agent, hint } => {
            let path = files.tokens_path();
            let _lock = fsutil::lock(&path)?;
            let mut t = tokens::load(&path, false).map_err(usage)?;
            let n = t.revoke(agent.as_deref(), hint.as_deref());
            if n == 0 {
                return Err(usage("no token matches that agent or hint"));
            }
            fsutil::write_atomic(&path, t.to_text().as_bytes(), 0o600)?;
            eprintln!("keycustody proxy: revoked {n} token(s)");
            Ok(ExitCode::SUCCESS)
        }
    }
}
