//! The Python binding of keycustody: argument conversion and error mapping only.
//! Every function converts its arguments, calls core, and maps a core error in
//! `errors::to_py`; there is no cryptographic logic here.
#![forbid(unsafe_code)]

use pyo3::prelude::*;

mod apikey;
mod args;
mod audit;
mod bench;
mod custody;
mod delivery;
mod envelope;
mod errors;
mod jwt;
mod keyring;
mod legacy;
mod otp;
mod random;
mod text;
mod webhook;

/// mimalloc keeps freed memory for reuse: with glibc's malloc, sealing or opening a payload
/// over its mmap threshold (128 KiB) page-faulted a fresh mapping on every call, which made
/// 1 MiB calls several times slower than the AES work itself (bench-python).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<keyring::PyKeyring>()?;
    m.add_class::<keyring::PyKeyInfo>()?;
    errors::register(m)?;
    envelope::register(m)?;
    apikey::register(m)?;
    random::register(m)?;
    webhook::register(m)?;
    text::register(m)?;
    legacy::register(m)?;
    otp::register(m)?;
    delivery::register(m)?;
    bench::register(m)?;
    custody::register(m)?;
    audit::register(m)?;
    Ok(())
}
