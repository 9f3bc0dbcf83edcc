//! Senim: the intake daemon of a corruption-reporting trust line. It registers
//! every appeal that reaches the line in the Journal, keeps the Astana working-day
//! calendar and tracks what follows. See `docs/ARCHITECTURE.md` for the map.

pub mod alerts;
pub mod app;
pub mod authority;
pub mod calendar;
pub mod cases;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod deadlines;
pub mod derivation;
pub mod documents;
pub mod instance;
pub mod investigation;
pub mod journal;
pub mod mailbox;
pub mod materials;
pub mod outbox;
pub mod pbx;
pub mod pdf;
pub mod persons;
pub mod private_fs;
pub mod report;
pub mod retention;
pub mod rulebook;
pub mod sealing;
pub mod server;
pub mod telemetry;
pub mod text_enum;
pub mod tokens;
pub mod triage;
