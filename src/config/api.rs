//! `[api]`: the managers allowed to use the manager's API, with their tokens.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Managers allowed to use the manager's API (`Authorization: Bearer <token>`).
    pub managers: Vec<ManagerConfig>,
}

/// A manager of the Journal; `name` goes into the audit log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagerConfig {
    pub name: String,
    /// The token itself, or (better) `token_file`, a file holding it.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
}

impl ApiConfig {
    /// Each manager named, with exactly one of a token and a token file.
    pub(super) fn check(&self) -> Result<(), String> {
        for (i, m) in self.managers.iter().enumerate() {
            let key = format!("api.managers[{i}]");
            if m.name.trim().is_empty() {
                return Err(format!("{key}.name must not be empty"));
            }
            if m.token.is_some() == m.token_file.is_some() {
                return Err(format!("{key}: give exactly one of token and token_file"));
            }
        }
        Ok(())
    }
}
