//! Password hashing (argon2id) and generation of first-start passwords.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::error::{AppError, AppResult};

/// argon2id cost. The default follows OWASP's 19 MiB, 2 passes; tests may lower it.
#[derive(Clone, Copy, Debug)]
pub struct HashCost {
    pub memory_kib: u32,
    pub passes: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            passes: 2,
        }
    }
}

fn hasher(cost: HashCost) -> Argon2<'static> {
    let params = Params::new(cost.memory_kib.max(8), cost.passes.max(1), 1, None)
        .expect("argon2 parameters within range");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. CPU-heavy: call from `spawn_blocking`.
pub fn hash(password: &str, cost: HashCost) -> String {
    hasher(cost)
        .hash_password(password.as_bytes())
        .expect("argon2 hashing with valid parameters")
        .to_string()
}

/// Checks a password against a PHC string; a malformed hash never verifies.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Bounds the password checks that run at once: each holds `memory_kib` of memory and a core
/// for its whole run, so a burst of sign-ins (known logins or not) waits for a permit, and
/// beyond a short wait is answered 503 with `Retry-After` instead of growing memory.
#[derive(Debug)]
pub struct Hashers {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
}

/// The right to run one password check ([`Hashers::acquire`]).
pub struct HashPermit(tokio::sync::OwnedSemaphorePermit);

impl Hashers {
    /// `permits` checks at once (0: one per core); a sign-in waits at most `wait` for one.
    pub fn new(permits: usize, wait: std::time::Duration) -> Self {
        let permits = if permits == 0 {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        } else {
            permits
        };
        Self {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)),
            wait,
        }
    }

    /// Waits (at most the configured time) for the right to check a password.
    pub async fn acquire(&self) -> AppResult<HashPermit> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HashPermit(permit)),
            Ok(Err(_)) => Err(AppError::internal("password hashers closed")),
            Err(_) => Err(AppError::Busy {
                message: "当前登录的人较多，请稍候几秒再试".into(),
                retry_after_secs: 1,
            }),
        }
    }

    /// Permits free now (tests).
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

impl HashPermit {
    /// Checks `password` against `phc` on the blocking pool. The permit goes with the work:
    /// a client that gives up does not free it before the hash is done.
    pub async fn verify(self, password: String, phc: String) -> AppResult<bool> {
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = self.0;
            verify(&password, &phc)
        })
        .await?)
    }
}

/// A hash of a password nobody has, verified against when the login does not exist so an
/// unknown login takes as long as a wrong password.
pub fn decoy_hash(cost: HashCost) -> String {
    hash(&crate::auth::random_hex(16), cost)
}

/// A fresh 14-character password without look-alike characters (0/O, 1/l/I).
/// It always passes [`check_strength`]: draws that lack a letter case or a digit are redrawn.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    loop {
        let mut buf = [0u8; 14];
        getrandom::fill(&mut buf).expect("the operating system's random source");
        // 224 is a multiple of the alphabet's 56 letters: rejecting above it keeps the draw uniform.
        if buf.iter().any(|b| *b >= 224) {
            continue;
        }
        let p: String = buf
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        if check_strength(&p).is_ok() {
            return p;
        }
    }
}

/// Checks a new password's strength; returns the Chinese reason it is refused.
pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("密码至少需要 10 个字符".into());
    }
    if password.chars().count() > 128 {
        return Err("密码不能超过 128 个字符".into());
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 3 {
        return Err("密码需包含大写字母、小写字母、数字、符号中的至少三类".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashCost = HashCost {
        memory_kib: 64,
        passes: 1,
    };

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let phc = hash("Qingshan-2026", CHEAP);
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("Qingshan-2026", &phc));
        assert!(!verify("qingshan-2026", &phc));
        assert!(!verify("Qingshan-2026", "not a hash"));
    }

    #[test]
    fn generated_passwords_are_strong_and_differ() {
        for _ in 0..200 {
            assert!(check_strength(&generate()).is_ok());
        }
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 14);
        assert_ne!(a, b);
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }

    #[tokio::test]
    async fn a_check_beyond_the_permits_is_answered_busy_with_a_retry() {
        let hashers = Hashers::new(1, std::time::Duration::from_millis(10));
        let held = hashers.acquire().await.unwrap();
        let e = hashers.acquire().await.err().expect("no permit left");
        assert_eq!(e.status().as_u16(), 503);
        assert_eq!(e.retry_after(), Some(1));
        let phc = hash("Qingshan-2026", CHEAP);
        assert!(held.verify("Qingshan-2026".into(), phc).await.unwrap());
        assert_eq!(hashers.available(), 1);
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert!(check_strength("short").unwrap_err().contains("10"));
        assert!(check_strength("alllowercaseletters").is_err());
        assert!(check_strength("Mixed-case-2026").is_ok());
    }
}
