//! Bearer tokens read from configuration (`[[api.managers]]`, `[[pbx.sources]]`)
//! and their one comparison, in constant time. Which header carries a token is
//! the server's business (`server::auth::bearer`).

use sha2::{Digest, Sha256};

/// One configured manager with the token already read from its file.
#[derive(Clone)]
pub struct ManagerToken {
    pub name: String,
    pub token: String,
}

/// Equal in constant time: both sides are hashed first so length leaks nothing.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::tokens_equal;

    #[test]
    fn tokens_compare_by_value() {
        assert!(tokens_equal("s3cret", "s3cret"));
        assert!(!tokens_equal("s3cret", "s3cre"));
        assert!(!tokens_equal("s3cret", "S3cret"));
    }
}
