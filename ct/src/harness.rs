//! The measurement and the statistics: timer, batches, percentile cropping, Welch's t-test,
//! rounds and the vote. No keycustody code here; `main.rs` builds the targets.
//!
//! Method (dudect, Reparaz, Balasch, Verbauwhede 2017, and its Rust port `dudect-bencher`):
//! - One measurement is one call, timed with a serializing cycle counter (`lfence; rdtsc; lfence`).
//! - The class of every measurement is drawn at random, so slow drift, other processes' bursts and
//!   frequency changes fall on both classes alike.
//! - The inputs of a batch are fresh: each slot of ONE allocation (same stride, same alignment)
//!   is filled by the same preparation code for whichever class was drawn for it, so where an
//!   input lives in memory, and the work done to make it, cannot differ between the classes.
//! - Per round and target a warm-up batch is discarded; it fixes the 100 cropping thresholds
//!   (dudect's percentiles `1 - 0.5^(10 (i+1) / 100)`), and every later measurement feeds the
//!   uncropped test, each cropped test, and the second-order test (squared distance to the class
//!   mean). The round's figure is the largest |t| over those 102 tests.
//! - Each target runs in `ROUNDS` rounds, all targets (controls included) interleaved batch by
//!   batch in a fresh random order. A target leaks when at least `VOTE` rounds exceed `T_ROUND`
//!   with the same sign (see `Verdict` for the false-positive reasoning).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Independent rounds per target.
pub const ROUNDS: usize = 5;
/// Per-round threshold on max |t| (dudect's/TVLA's 4.5).
pub const T_ROUND: f64 = 4.5;
/// Rounds over `T_ROUND`, with one sign, that make a leak.
pub const VOTE: usize = 4;
/// A/A rounds over `T_ROUND` that make the run untrustworthy ("machine too noisy").
pub const AA_NOISY: usize = 2;
/// Cropping percentiles, as dudect.
pub const PERCENTILES: usize = 100;
/// Each class needs this many samples in a test before its t counts (dudect: 10,000 in all).
const MIN_PER_CLASS: f64 = 5_000.0;
/// Measurements of the warm-up (discarded, fixes the thresholds), in normal-sized batches.
const WARMUP: usize = 10_000;
/// Measurements at the start of each batch that are discarded (caches after the preparation).
const DISCARD: usize = 8;
/// Bytes of slots per batch (bounded so that a batch stays in L2/L3), and bounds on the count.
const BATCH_BYTES: usize = 1 << 20;
const BATCH_MIN: usize = 256;
const BATCH_MAX: usize = 4_000;

/// A serializing read of the time-stamp counter: `lfence` keeps earlier instructions from
/// finishing after the read and later ones from starting before it. On this AMD EPYC VM both this
/// and `Instant` advance in steps of 26 ticks (10 ns) and cost 20 ns a read; this one is used
/// because it is the serializing counter dudect prescribes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn ticks() -> u64 {
    use core::arch::x86_64::{_mm_lfence, _rdtsc};
    // SAFETY: `lfence` (SSE2) and `rdtsc` exist on every x86_64 CPU; they read the counter only.
    unsafe {
        _mm_lfence();
        let t = _rdtsc();
        _mm_lfence();
        t
    }
}

/// Elsewhere: nanoseconds from a monotonic clock.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn ticks() -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Ticks per nanosecond (calibrated against `Instant` over 100 ms).
pub fn ticks_per_ns() -> f64 {
    let (t0, k0) = (Instant::now(), ticks());
    std::thread::sleep(Duration::from_millis(100));
    let k1 = ticks();
    (k1 - k0) as f64 / t0.elapsed().as_nanos() as f64
}

/// Median cost of one timer read pair, in ticks.
pub fn timer_overhead() -> u64 {
    let mut v: Vec<u64> = (0..10_001)
        .map(|_| ticks().wrapping_neg() + ticks())
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

/// xorshift64*: the class schedule and the inputs need to be unpredictable to the code under
/// test, not cryptographic.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Self {
        let t = Instant::now().elapsed().as_nanos() as u64 ^ ticks();
        Rng((0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id()) ^ t) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn bit(&mut self) -> usize {
        (self.next() >> 63) as usize
    }
    /// Uniform in `0..n` (n small; the bias of the multiply-shift is below 2^-50).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
    /// A byte in 1..=255: XORed into a byte, it always changes it.
    pub fn nonzero(&mut self) -> u8 {
        1 + self.below(255) as u8
    }
    pub fn fill(&mut self, out: &mut [u8]) {
        for c in out.chunks_mut(8) {
            let r = self.next().to_le_bytes();
            c.copy_from_slice(&r[..c.len()]);
        }
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// What a target is, which decides how its verdict is read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// keycustody code: must not leak.
    Ours,
    /// Known-leaky positive control: must be found leaking, class 1 slower.
    Leaky,
    /// A/A control (both classes drawn from one distribution): must not leak, else the machine
    /// is too noisy for a verdict.
    Null,
}

/// Writes the input of `class` into the slot (same work for both classes).
pub type Prep = Box<dyn FnMut(usize, &mut Rng, &mut [u8])>;
/// The call under test.
pub type Run = Box<dyn FnMut(&[u8])>;

pub struct Target {
    pub name: &'static str,
    pub kind: Kind,
    /// Bytes of one input.
    pub len: usize,
    /// The input is text: `batch` checks that every slot is UTF-8 before timing, so that `run`
    /// may view it as `&str` without a check inside the timed region.
    pub text: bool,
    pub prep: Prep,
    pub run: Run,
}

/// Per-class sums over one bucket between two thresholds, shifted by a reference value.
#[derive(Clone, Copy, Default)]
struct Sums {
    n: [f64; 2],
    s1: [f64; 2],
    s2: [f64; 2],
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        for c in 0..2 {
            self.n[c] += o.n[c];
            self.s1[c] += o.s1[c];
            self.s2[c] += o.s2[c];
        }
    }
    fn mean(&self, c: usize) -> f64 {
        self.s1[c] / self.n[c]
    }
    fn se(&self) -> f64 {
        let var = |c: usize| {
            ((self.s2[c] - self.s1[c] * self.s1[c] / self.n[c]) / (self.n[c] - 1.0)).max(0.0)
        };
        (var(0) / self.n[0] + var(1) / self.n[1]).sqrt()
    }
    /// Welch's t of class 0 against class 1 (positive: class 0 slower); 0 when too few samples.
    fn t(&self) -> f64 {
        if self.n[0] < MIN_PER_CLASS || self.n[1] < MIN_PER_CLASS {
            return 0.0;
        }
        let se = self.se();
        if se == 0.0 {
            0.0
        } else {
            (self.mean(0) - self.mean(1)) / se
        }
    }
}

/// Welford's mean/variance per class (for the second-order test).
#[derive(Clone, Copy, Default)]
struct Welford {
    n: [f64; 2],
    mean: [f64; 2],
    m2: [f64; 2],
}

impl Welford {
    fn push(&mut self, c: usize, x: f64) {
        self.n[c] += 1.0;
        let d = x - self.mean[c];
        self.mean[c] += d / self.n[c];
        self.m2[c] += d * (x - self.mean[c]);
    }
    fn t(&self) -> f64 {
        if self.n[0] < MIN_PER_CLASS || self.n[1] < MIN_PER_CLASS {
            return 0.0;
        }
        let v = |c: usize| self.m2[c] / (self.n[c] - 1.0) / self.n[c];
        let se = (v(0) + v(1)).sqrt();
        if se == 0.0 {
            0.0
        } else {
            (self.mean[0] - self.mean[1]) / se
        }
    }
}

/// dudect's cropping percentiles.
pub fn percentiles() -> Vec<f64> {
    (0..PERCENTILES)
        .map(|i| 1.0 - 0.5f64.powf(10.0 * (i + 1) as f64 / PERCENTILES as f64))
        .collect()
}

/// One round of one target: thresholds from its warm-up, then the accumulated tests.
pub struct Round {
    thresholds: Vec<f64>,
    reference: f64,
    /// bucket b holds the samples with exactly b thresholds <= x (b in 0..=PERCENTILES);
    /// cropped test i ("x < thresholds[i]") is the sum of buckets 0..=i.
    buckets: Vec<Sums>,
    /// Running per-class mean (uncropped) for centring the second-order test.
    total: Sums,
    second: Welford,
}

/// What a round found.
#[derive(Clone, Copy, Debug)]
pub struct RoundResult {
    /// Signed t of the test with the largest |t| (positive: class 0 slower).
    pub t: f64,
    /// Which test: 0..PERCENTILES cropped, PERCENTILES uncropped, PERCENTILES + 1 second order.
    pub test: usize,
    /// Per-class mean below the 90th-percentile threshold, in ticks.
    pub mean90: [f64; 2],
    /// The smallest mean difference that test would flag (`T_ROUND` standard errors), in ticks.
    pub limit90: f64,
    pub n: u64,
}

impl Round {
    pub fn new(mut warm: Vec<f64>) -> Self {
        warm.sort_by(f64::total_cmp);
        let at = |p: f64| warm[((warm.len() - 1) as f64 * p) as usize];
        Round {
            thresholds: percentiles().into_iter().map(at).collect(),
            reference: at(0.5),
            buckets: vec![Sums::default(); PERCENTILES + 1],
            total: Sums::default(),
            second: Welford::default(),
        }
    }

    pub fn push(&mut self, class: usize, x: f64) {
        let b = self.thresholds.partition_point(|&t| t <= x);
        let y = x - self.reference;
        let s = &mut self.buckets[b];
        s.n[class] += 1.0;
        s.s1[class] += y;
        s.s2[class] += y * y;
        let t = &mut self.total;
        t.n[class] += 1.0;
        t.s1[class] += y;
        if t.n[0] > 10_000.0 && t.n[1] > 10_000.0 {
            let d = y - t.s1[class] / t.n[class];
            self.second.push(class, d * d);
        }
    }

    pub fn finish(&self) -> RoundResult {
        let mut best = (0.0f64, 0usize);
        let mut cum = Sums::default();
        let mut mean90 = [0.0; 2];
        let mut limit90 = 0.0;
        let p90 = percentiles().iter().position(|&p| p >= 0.9).unwrap_or(0);
        for (i, b) in self.buckets.iter().enumerate() {
            cum.add(b);
            // i < PERCENTILES: cropped test i; i == PERCENTILES: all samples (uncropped).
            let t = cum.t();
            if t.abs() > best.0.abs() {
                best = (t, i);
            }
            if i == p90 {
                mean90 = [0, 1].map(|c| cum.mean(c) + self.reference);
                limit90 = T_ROUND * cum.se();
            }
        }
        let t2 = self.second.t();
        if t2.abs() > best.0.abs() {
            best = (t2, PERCENTILES + 1);
        }
        RoundResult {
            t: best.0,
            test: best.1,
            mean90,
            limit90,
            n: (cum.n[0] + cum.n[1]) as u64,
        }
    }
}

/// Reusable per-target scratch: one allocation holds every slot of a batch.
pub struct Scratch {
    buf: Vec<u8>,
    classes: Vec<u8>,
    times: Vec<u64>,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            buf: Vec::new(),
            classes: Vec::new(),
            times: Vec::new(),
        }
    }
}

/// Slots per batch and the distance between slots (a multiple of 64: same alignment for all).
fn layout(len: usize) -> (usize, usize) {
    let stride = len.next_multiple_of(64).max(64);
    ((BATCH_BYTES / stride).clamp(BATCH_MIN, BATCH_MAX), stride)
}

/// One batch: draw the classes, prepare every slot, then time the calls in slot order.
/// Returns (class, ticks) pairs in `s.classes` / `s.times`, the first `DISCARD` dropped.
pub fn batch(t: &mut Target, rng: &mut Rng, count: usize, s: &mut Scratch) {
    let (_, stride) = layout(t.len);
    s.buf.resize(count * stride, 0);
    s.classes.clear();
    s.times.clear();
    for i in 0..count {
        let c = rng.bit();
        s.classes.push(c as u8);
        (t.prep)(c, rng, &mut s.buf[i * stride..i * stride + t.len]);
    }
    if t.text
        && !(0..count).all(|i| std::str::from_utf8(&s.buf[i * stride..i * stride + t.len]).is_ok())
    {
        eprintln!("keycustody-ct: {}: a prepared input is not UTF-8", t.name);
        std::process::exit(2);
    }
    for i in 0..count {
        let input = &s.buf[i * stride..i * stride + t.len];
        let t0 = ticks();
        (t.run)(black_box(input));
        let t1 = ticks();
        s.times.push(t1.wrapping_sub(t0));
    }
    s.classes.drain(..DISCARD.min(count));
    s.times.drain(..DISCARD.min(count));
}

/// Runs every target for `budget` in `ROUNDS` rounds, interleaved batch by batch in a random
/// order; returns each target's round results.
pub fn run_all(targets: &mut [Target], budget: Duration) -> Vec<Vec<RoundResult>> {
    let mut rng = Rng::seeded();
    let per_round = budget / ROUNDS as u32;
    let mut results = vec![Vec::with_capacity(ROUNDS); targets.len()];
    let mut scratch: Vec<Scratch> = targets.iter().map(|_| Scratch::new()).collect();
    let mut order: Vec<usize> = (0..targets.len()).collect();
    for _ in 0..ROUNDS {
        // Warm-up, discarded: it fixes this round's cropping thresholds.
        rng.shuffle(&mut order);
        let mut rounds: Vec<Option<Round>> = targets.iter().map(|_| None).collect();
        // Batches of the normal size, so that the inputs sit in the same cache level as later.
        for &i in &order {
            let (count, _) = layout(targets[i].len);
            let mut warm: Vec<f64> = Vec::with_capacity(WARMUP + count);
            while warm.len() < WARMUP {
                batch(&mut targets[i], &mut rng, count, &mut scratch[i]);
                warm.extend(scratch[i].times.iter().map(|&x| x as f64));
            }
            rounds[i] = Some(Round::new(warm));
        }
        let mut used = vec![Duration::ZERO; targets.len()];
        loop {
            rng.shuffle(&mut order);
            let mut any = false;
            for &i in &order {
                if used[i] >= per_round {
                    continue;
                }
                any = true;
                let start = Instant::now();
                let (count, _) = layout(targets[i].len);
                batch(&mut targets[i], &mut rng, count, &mut scratch[i]);
                if let Some(r) = rounds[i].as_mut() {
                    for (&c, &x) in scratch[i].classes.iter().zip(&scratch[i].times) {
                        r.push(usize::from(c), x as f64);
                    }
                }
                used[i] += start.elapsed();
            }
            if !any {
                break;
            }
        }
        for (res, r) in results.iter_mut().zip(&rounds) {
            if let Some(r) = r {
                res.push(r.finish());
            }
        }
    }
    results
}

/// Names a test: `p0.93` (cropped at that percentile), `raw` (uncropped) or `2nd` (second order).
pub fn test_name(test: usize) -> String {
    match test {
        t if t < PERCENTILES => format!("p{:.3}", percentiles()[t]),
        t if t == PERCENTILES => "raw".into(),
        _ => "2nd".into(),
    }
}

/// A target's verdict from its rounds.
///
/// False positives: let p be the chance that one round of a constant-time target exceeds
/// `T_ROUND` (from noise, drift or the machine; with iid noise and 102 correlated tests it is
/// about 1e-4, on a loaded VM more). A leak needs `VOTE` = 4 of `ROUNDS` = 5 rounds over the
/// threshold with the same sign; rounds are separated in time and interleaved with the other
/// targets, so taking them as independent with a random sign (p/2 each way), the chance is
/// 2 * [5 (p/2)^4 (1 - p/2) + (p/2)^5]: 9e-4 for p = 0.2, 6e-5 for p = 0.1, per target. The A/A
/// control bounds p on the same run: two or more A/A rounds over the threshold (chance
/// 1 - (1-p)^5 - 5p(1-p)^4, 26 % at p = 0.2, 8 % at p = 0.1) and the run is declared too noisy.
/// A real leak, by contrast, has a fixed sign and grows with the samples, so it is over the
/// threshold in every round once a round has enough samples to see it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    Pass,
    Leak,
}

/// Counts rounds over the threshold: (positive t, negative t).
pub fn red_rounds(rounds: &[RoundResult]) -> (usize, usize) {
    let pos = rounds.iter().filter(|r| r.t > T_ROUND).count();
    let neg = rounds.iter().filter(|r| r.t < -T_ROUND).count();
    (pos, neg)
}

pub fn verdict(rounds: &[RoundResult]) -> Verdict {
    let (pos, neg) = red_rounds(rounds);
    if pos.max(neg) >= VOTE {
        Verdict::Leak
    } else {
        Verdict::Pass
    }
}

/// A positive control is detected when it leaks with class 1 slower (negative t) in `VOTE` rounds.
pub fn control_detected(rounds: &[RoundResult]) -> bool {
    red_rounds(rounds).1 >= VOTE
}

/// The A/A control says the machine is too noisy when `AA_NOISY` or more rounds are over.
pub fn too_noisy(rounds: &[RoundResult]) -> bool {
    let (pos, neg) = red_rounds(rounds);
    pos + neg >= AA_NOISY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_of(samples: &[(usize, f64)]) -> RoundResult {
        let warm: Vec<f64> = samples.iter().take(WARMUP).map(|s| s.1).collect();
        let mut r = Round::new(warm);
        for &(c, x) in &samples[WARMUP..] {
            r.push(c, x);
        }
        r.finish()
    }

    /// Noisy samples: base + heavy tail, with `shift` added to class 1.
    fn synth(rng: &mut Rng, n: usize, shift: f64) -> Vec<(usize, f64)> {
        (0..n)
            .map(|_| {
                let c = rng.bit();
                let noise = rng.below(100) as f64;
                let tail = if rng.below(100) == 0 {
                    rng.below(100_000) as f64
                } else {
                    0.0
                };
                (c, 1000.0 + noise + tail + shift * c as f64)
            })
            .collect()
    }

    #[test]
    fn same_distribution_passes_and_a_shift_is_found_with_its_sign() {
        let mut rng = Rng(12345);
        let null = round_of(&synth(&mut rng, 400_000, 0.0));
        assert!(null.t.abs() < T_ROUND, "A/A t = {}", null.t);
        let leak = round_of(&synth(&mut rng, 400_000, 2.0));
        assert!(leak.t < -T_ROUND, "shifted t = {}", leak.t);
        // The uncropped test alone drowns a shift of 2 in the tail; a crop must have found it.
        assert!(leak.test < PERCENTILES, "found by test {}", leak.test);
    }

    #[test]
    fn a_variance_difference_is_found_by_the_second_order_test() {
        let mut rng = Rng(777);
        // Same mean, class 1 spread wider: the uncropped test sees nothing, the second-order does.
        let s: Vec<(usize, f64)> = (0..400_000)
            .map(|_| {
                let c = rng.bit();
                let d = rng.below(2) as f64 * 2.0 - 1.0;
                (c, 1000.0 + d * (10.0 + 20.0 * c as f64))
            })
            .collect();
        let warm: Vec<f64> = s.iter().take(WARMUP).map(|s| s.1).collect();
        let mut r = Round::new(warm);
        for &(c, x) in &s[WARMUP..] {
            r.push(c, x);
        }
        let mut all = Sums::default();
        for b in &r.buckets {
            all.add(b);
        }
        assert!(all.t().abs() < T_ROUND, "uncropped t = {}", all.t());
        assert!(r.second.t() < -T_ROUND, "second-order t = {}", r.second.t());
    }

    #[test]
    fn cropped_sums_match_a_direct_filter() {
        let mut rng = Rng(99);
        let s = synth(&mut rng, 60_000, 1.0);
        let warm: Vec<f64> = s.iter().take(WARMUP).map(|s| s.1).collect();
        let mut r = Round::new(warm);
        for &(c, x) in &s[WARMUP..] {
            r.push(c, x);
        }
        for i in [0, 37, PERCENTILES - 1] {
            let th = r.thresholds[i];
            let mut direct = Sums::default();
            for &(c, x) in &s[WARMUP..] {
                if x < th {
                    let y = x - r.reference;
                    direct.n[c] += 1.0;
                    direct.s1[c] += y;
                    direct.s2[c] += y * y;
                }
            }
            let mut cum = Sums::default();
            for b in &r.buckets[..=i] {
                cum.add(b);
            }
            assert_eq!(cum.n, direct.n, "crop {i}");
            assert!((cum.t() - direct.t()).abs() < 1e-9, "crop {i}");
        }
    }

    fn rr(ts: &[f64]) -> Vec<RoundResult> {
        ts.iter()
            .map(|&t| RoundResult {
                t,
                test: 0,
                mean90: [0.0; 2],
                limit90: 0.0,
                n: 0,
            })
            .collect()
    }

    #[test]
    fn the_vote() {
        assert_eq!(verdict(&rr(&[5.0, 6.0, 7.0, 8.0, 1.0])), Verdict::Leak);
        assert_eq!(verdict(&rr(&[-5.0, -6.0, -7.0, -8.0, -9.0])), Verdict::Leak);
        assert_eq!(verdict(&rr(&[5.0, 6.0, 7.0, 1.0, 1.0])), Verdict::Pass);
        // Five rounds over the threshold but with changing sign: drift, not a leak.
        assert_eq!(verdict(&rr(&[5.0, -6.0, 7.0, -8.0, 9.0])), Verdict::Pass);
        assert!(control_detected(&rr(&[-50.0, -60.0, -70.0, -80.0, 1.0])));
        assert!(!control_detected(&rr(&[50.0, 60.0, 70.0, 80.0, 90.0])));
        assert!(!too_noisy(&rr(&[5.0, 1.0, 1.0, 1.0, 1.0])));
        assert!(too_noisy(&rr(&[5.0, -5.0, 1.0, 1.0, 1.0])));
    }

    #[test]
    fn batches_use_one_allocation_and_both_classes() {
        let mut t = Target {
            name: "probe",
            kind: Kind::Null,
            len: 10,
            text: false,
            prep: Box::new(|c, _, out: &mut [u8]| out.fill(c as u8)),
            run: Box::new(|_| {}),
        };
        let mut s = Scratch::new();
        let mut rng = Rng(5);
        batch(&mut t, &mut rng, 1000, &mut s);
        assert_eq!(s.times.len(), 1000 - DISCARD);
        let ones = s.classes.iter().filter(|&&c| c == 1).count();
        assert!((400..600).contains(&ones), "{ones}");
        // Slot i holds class i's input, at a 64-byte stride in one buffer.
        for (i, &c) in s.classes.iter().enumerate() {
            assert_eq!(s.buf[(i + DISCARD) * 64], c);
        }
    }
}
