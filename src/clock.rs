//! The one source of "now", so tests can set the time of day the hall lives in.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use jiff::Timestamp;

/// Time zone of every hall: civil dates and opening hours are in Beijing time.
pub const HALL_TZ: &str = "Asia/Shanghai";

/// Wall clock, or a fixed instant in tests.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Microseconds since the epoch when fixed; `None` follows the system clock.
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that stays at `at` until [`Clock::set`] moves it.
    pub fn fixed(at: Timestamp) -> Self {
        Self {
            fixed: Some(Arc::new(AtomicI64::new(at.as_microsecond()))),
        }
    }

    /// Moves a fixed clock; does nothing to the system clock.
    pub fn set(&self, at: Timestamp) {
        if let Some(f) = &self.fixed {
            f.store(at.as_microsecond(), Ordering::SeqCst);
        }
    }

    /// Now, truncated to microseconds (what both databases store).
    pub fn now(&self) -> Timestamp {
        let micros = match &self.fixed {
            Some(f) => f.load(Ordering::SeqCst),
            None => Timestamp::now().as_microsecond(),
        };
        Timestamp::from_microsecond(micros).expect("microseconds from a valid timestamp")
    }

    /// Now as stored in the database: microseconds since the Unix epoch.
    pub fn now_micros(&self) -> i64 {
        self.now().as_microsecond()
    }
}

/// Formats a stored instant in Beijing time for people, e.g. `2026-11-23 09:05:00`.
pub fn format_local(micros: i64) -> String {
    match Timestamp::from_microsecond(micros) {
        Ok(ts) => ts
            .in_tz(HALL_TZ)
            .map(|z| z.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|_| ts.to_string()),
        Err(_) => String::from("-"),
    }
}
