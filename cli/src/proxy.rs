//! `keycustody proxy` (stub; see issue 6).

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_a: Args) -> Result<std::process::ExitCode, keycustody::Error> {
    Err(keycustody::Error::InvalidArgument("not implemented yet"))
}
