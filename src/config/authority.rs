//! `[authority]`: the deputies who may decide in the Director's place where
//! the law lets them.

use serde::{Deserialize, Serialize};

/// `[authority]`: who may decide in the Director's place what the law lets a
/// deputy of the head decide: the extension of the reply (APPK Art. 76).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthorityConfig {
    /// The logins of the Director's deputies (persons of `senim persons`).
    pub deputies: Vec<String>,
}

impl AuthorityConfig {
    pub(super) fn check(&self) -> Result<(), String> {
        if let Some(bad) = self
            .deputies
            .iter()
            .find(|l| l.trim().is_empty() || l.trim() != l.as_str())
        {
            return Err(format!(
                "authority.deputies: {bad:?} is not a login (no spaces around it, not empty)"
            ));
        }
        Ok(())
    }
}
