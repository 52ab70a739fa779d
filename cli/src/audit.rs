//! `keycustody audit` (stub; see issue 6).

/// Subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not yet implemented.
    Todo,
}

pub fn run(_c: Command) -> Result<std::process::ExitCode, keycustody::Error> {
    Err(keycustody::Error::InvalidArgument("not implemented yet"))
}
