//! The tenant-VM pieces of the `keycustody` command as a library: the vault, the audit log
//! and the LLM auth proxy. The binary (`src/main.rs`) dispatches to them; fuzz targets and
//! tests call their parsers directly.
#![forbid(unsafe_code)]

pub mod audit;
pub mod proxy;
pub mod vault;
pub mod vm;
