//! The daemon as a program: the CLI, the configuration, HTTP and HTTPS limits,
//! metrics, crashes and restarts, PostgreSQL over TLS, and the test harness's
//! own servers. One test binary; each file here is a module.

// Each test binary uses a part of the support.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod cli;
mod config_example;
mod harness;
mod http;
mod https;
mod intake_contention;
mod mailbox_crash;
mod metrics;
mod pg_tls;
