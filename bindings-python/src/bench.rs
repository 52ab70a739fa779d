//! `_bench_core`: core's own call timed in a Rust loop, so that `make bench-python` can
//! report the binding's per-call overhead (binding call minus core call) in the same run.
//! Private (not exported by the `keycustody` package); it reveals nothing but a duration.

use std::hint::black_box;
use std::time::Instant;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::args::{Data, Len, Text};
use crate::errors::ToPyResult;
use crate::keyring::PyKeyring;

/// Seconds per call of core's `op` ("seal", "seal_binary", "open", "open_binary") on the
/// given arguments (for the opens, `data` is the envelope), averaged over `iters` calls.
#[pyfunction]
#[pyo3(name = "_bench_core")]
fn bench_core(
    py: Python<'_>,
    keyring: &Bound<'_, PyKeyring>,
    op: Text,
    owner: Text,
    data: Data<'_>,
    context: Data<'_>,
    iters: Len,
) -> PyResult<f64> {
    let kr = &keyring.get().inner;
    let (d, c, n) = (data.as_slice(), context.as_slice(), iters.0.max(1));
    let text = || std::str::from_utf8(d).map_err(|_| PyValueError::new_err("envelope is not text"));
    let elapsed = match &*op {
        "seal" => py.detach(|| time(n, || kr.seal(&owner, d, c).map(drop))),
        "seal_binary" => py.detach(|| time(n, || kr.seal_binary(&owner, d, c).map(drop))),
        "open" => {
            let env = text()?;
            py.detach(|| time(n, || kr.open(&owner, env, c).map(drop)))
        }
        "open_binary" => py.detach(|| time(n, || kr.open_binary(&owner, d, c).map(drop))),
        _ => return Err(PyValueError::new_err("unknown op")),
    }
    .to_py()?;
    Ok(elapsed / n as f64)
}

fn time(n: usize, mut f: impl FnMut() -> keycustody::Result<()>) -> keycustody::Result<f64> {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f())?;
    }
    Ok(start.elapsed().as_secs_f64())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bench_core, m)?)
}
