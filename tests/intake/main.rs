//! The intake's end-to-end tests: calls, mail and notes becoming appeals in
//! the Journal, the calendar and the law's deadlines, the Director's alerts,
//! sealing at intake, retention and the report. One test binary (as
//! zero-to-production's `tests/api/main.rs`): each file here is a module.

// Each test binary uses a part of the support.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod alerts;
mod audit_chain;
mod calendar;
mod journal;
mod law;
mod mailbox;
mod mailbox_sealed;
mod notes;
mod pbx;
mod pbx_sealed;
mod reasons;
mod report;
mod retention;
mod sent_on;
