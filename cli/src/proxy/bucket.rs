//! A token bucket; time is a parameter (seconds since an arbitrary origin).

/// A token bucket of `burst` tokens refilled at `per_second`.
#[derive(Debug, Clone)]
pub struct Bucket {
    burst: f64,
    per_second: f64,
    tokens: f64,
    last: f64,
}

impl Bucket {
    /// A full bucket at time `now`.
    pub fn new(burst: u32, per_second: f64, now: f64) -> Bucket {
        Bucket {
            burst: f64::from(burst),
            per_second,
            tokens: f64::from(burst),
            last: now,
        }
    }

    /// Takes one token at `now`; on refusal, returns the seconds until one is available.
    ///
    /// # Errors
    /// `Err(wait_seconds)` when the bucket is empty.
    pub fn take_at(&mut self, now: f64) -> Result<(), f64> {
        if now > self.last {
            self.tokens = (self.tokens + (now - self.last) * self.per_second).min(self.burst);
            self.last = now;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - self.tokens) / self.per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let mut b = Bucket::new(60, 20.0, 0.0);
        for _ in 0..60 {
            b.take_at(0.0).unwrap();
        }
        let wait = b.take_at(0.0).unwrap_err();
        assert!((wait - 0.05).abs() < 1e-9);
        // 0.1 s later: two tokens.
        b.take_at(0.1).unwrap();
        b.take_at(0.1).unwrap();
        assert!(b.take_at(0.1).is_err());
        // Refill caps at the burst.
        let mut b = Bucket::new(3, 20.0, 0.0);
        for _ in 0..3 {
            b.take_at(1000.0).unwrap();
        }
        assert!(b.take_at(1000.0).is_err());
    }

    #[test]
    fn time_going_backwards_adds_nothing() {
        let mut b = Bucket::new(1, 1.0, 10.0);
        b.take_at(10.0).unwrap();
        assert!(b.take_at(5.0).is_err());
        assert!(b.take_at(10.5).is_err());
        b.take_at(11.0).unwrap();
    }
}
