//! The office's end-to-end tests: the console (in a browser and over HTTP),
//! cases, documents and replies, investigations, and the keys that open
//! sealed appeals. One test binary; each file here is a module.

// Each test binary uses a part of the support.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod console;
mod console_case;
mod console_limits;
mod console_materials;
mod console_people;
mod documents;
mod documents_reply;
mod investigation;
mod sealing;
mod signed_keys;
