//! The investigation file (7.3–7.11): what the Director ordered and the
//! commission did, readable only by the Director, the managers and the
//! commission's members (7.9), with the same rules whether the Journal is
//! sealed or not. Owns the tables `investigation_files`,
//! `investigation_members`, `investigation_grants` and `investigation_entries`
//! (`store.rs`).
//!
//! - **Entries** (`FileEntry`): the order (its number and date, the commission's
//!   members), a change of the commission, the extension with the reference of
//!   the Director's written decision (7.5), each request for materials (from
//!   whom, what; 7.8: one working day each) and its receipt, the commission's
//!   reasoned conclusion (7.10), the decision (7.11) (`entry.rs`). Who records
//!   which is the rulebook's (`FileEntry::action`: the order, the commission,
//!   the extension and the decision are the Director's; a member of the
//!   commission does its work); the entry is checked against the file as it
//!   stands before it is written (`check.rs`, pure).
//! - **In the chain, in one transaction**: each entry is an `investigation_entry`
//!   event of the appeal's audit chain giving its number, kind and the SHA-256 of
//!   its bytes at rest (never its content; a conclusion's also whether the
//!   report was found substantiated, 10.13); an entry that is also an act of
//!   `cases` (the order, the extension, a request, a receipt, the decision) is
//!   recorded as that act too (`Case::record_in`: the deadlines and the status
//!   follow). Opening the file is an `investigation_read` event naming the
//!   person; a change of who holds the file's key an `investigation_access`.
//! - **Sealing**: each file has a key of its own (`sealing::FileKey`); its entries
//!   are sealed to it; the key is kept only wrapped to the escrow and to the own
//!   key of each person who may read it, so the office key, which every reader
//!   of the Journal holds, does not open it. A reader who enrolled after the
//!   order gets the key the next time someone who holds it opens the file.
//! - **Without sealing** (no office key yet) the file is kept plain (its
//!   `recipient` is empty, its entries' bytes are the entry's JSON), read by the
//!   same people by role and membership; `senim keys init` seals it in place
//!   (`Investigations::seal_existing_in`: a key made and wrapped, each entry
//!   sealed, an `investigation_sealed` event giving each entry's new SHA-256).

mod check;
mod entry;
mod store;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cases::{ActError, Case};
use crate::clock::SharedClock;
use crate::db::{Db, Tx};
use crate::deadlines::Event;
use crate::journal::{Appeal, AppealId, ChainLock, Journal, JournalError, Status};
use crate::persons::{Person, Persons, Role};
use crate::rulebook::{self, Action};
use crate::sealing::{FileKey, Keys, SealError, TrustedKey, Unlocked, seal_to_file};
use check::{Admitted, FileState};
use entry::invalid;
pub use entry::{EntryKind, FileEntry, Member};

/// The chain's name for an entry of the file.
pub const ENTRY: &str = "investigation_entry";
/// The chain's name for a reading of the file.
pub const READ: &str = "investigation_read";
/// The chain's name for a change of who holds the file's key.
pub const ACCESS: &str = "investigation_access";
/// The chain's name for a plain file sealed in place (`senim keys init`): each
/// entry's new SHA-256.
pub const SEALED: &str = "investigation_sealed";

/// The `recipient` of a file kept plain (no office key yet).
const PLAIN: &str = "";

/// What can go wrong with the file.
#[derive(Debug, thiserror::Error)]
pub enum InvestigationError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Act(#[from] ActError),
    #[error("{0}")]
    Sealing(#[from] crate::sealing::SealError),
    /// The person may not do this; the text says who may.
    #[error("{0}")]
    Forbidden(String),
    /// The file is sealed and was not opened with a key.
    #[error("{0}")]
    Locked(String),
    /// There is no file on this appeal.
    #[error("{0}")]
    NotFound(String),
    /// The entry does not fit the file or lacks what it needs; the text names it.
    #[error("{0}")]
    Invalid(String),
}

impl From<sqlx::Error> for InvestigationError {
    fn from(e: sqlx::Error) -> Self {
        InvestigationError::Journal(e.into())
    }
}

/// Who is asking: a person who works the line.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    pub login: &'a str,
    pub roles: &'a [Role],
}

impl Who<'_> {
    fn actor(&self) -> String {
        format!("person:{}", self.login)
    }

    /// Whether they may read the file whose members are `members` (7.9): the
    /// rulebook's `ReadInvestigationFile`, a member too.
    fn may_read(&self, members: &[String]) -> bool {
        let member = members.iter().any(|m| m == self.login);
        rulebook::check_member(self.roles, member, Action::ReadInvestigationFile).is_ok()
    }
}

/// What the write of an admitted entry works with, read before it.
struct Write<'a> {
    appeal: &'a Appeal,
    /// The file, if the investigation is ordered.
    file: Option<&'a store::FileRow>,
    people: &'a People,
    /// Who records it, as the chain names them.
    actor: String,
    now: DateTime<Utc>,
    today: NaiveDate,
    /// Whether the order was recorded as a plain act before (not recorded twice).
    ordered_before: bool,
}

/// A recorded entry, opened.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    pub seq: i64,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub entry: FileEntry,
}

/// A file, opened by one person.
#[derive(Clone, Debug, Serialize)]
pub struct File {
    pub appeal_id: AppealId,
    pub registration_number: String,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    /// Whether it is sealed (once the office key exists).
    pub sealed: bool,
    /// Who holds the file's key (`person:<login>`, `escrow`); for a file not
    /// yet sealed, who may read it.
    pub readers: Vec<String>,
    pub entries: Vec<Recorded>,
}

impl File {
    /// The order: its number and date.
    pub fn order(&self) -> Option<(&str, NaiveDate)> {
        self.entries.iter().find_map(|r| match &r.entry {
            FileEntry::Ordered { number, on, .. } => Some((number.as_str(), *on)),
            _ => None,
        })
    }

    /// The commission as it stands (the last order or change).
    pub fn members(&self) -> &[Member] {
        self.entries
            .iter()
            .rev()
            .find_map(|r| r.entry.members())
            .unwrap_or(&[])
    }

    /// Each request for materials with the date it was answered, if it was.
    pub fn requests(&self) -> Vec<(&FileEntry, Option<NaiveDate>)> {
        self.entries
            .iter()
            .filter(|r| r.entry.kind() == EntryKind::MaterialsRequested)
            .map(|r| {
                let answered = self.entries.iter().find_map(|a| match a.entry {
                    FileEntry::MaterialsReceived { request, on, .. }
                        if Some(request) == r.entry.request() =>
                    {
                        Some(on)
                    }
                    _ => None,
                });
                (&r.entry, answered)
            })
            .collect()
    }
}

/// A file as the list shows it, without opening it.
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    pub appeal_id: AppealId,
    pub registration_number: String,
    pub status: Status,
    pub opened_at: DateTime<Utc>,
    /// The kinds of its entries, in order, with their dates.
    pub entries: Vec<(EntryKind, NaiveDate)>,
    /// Whether the person asking is a member of the commission.
    pub member: bool,
}

/// Persons, the escrow's public key, persons' own public keys by login (each
/// verified, or the refusal of its row).
type People = (Vec<Person>, Option<TrustedKey>, PersonKeys);

type PersonKeys = std::collections::BTreeMap<String, Result<TrustedKey, crate::sealing::SealError>>;

/// What the file is worked with.
pub struct Investigations<'a> {
    pub journal: &'a Journal,
    pub case: Case<'a>,
    pub persons: &'a Persons,
    /// The sealing keys: the escrow's and persons' public keys, verified.
    pub keys: Keys,
    pub db: &'a Db,
    pub clock: &'a SharedClock,
    pub tz: chrono_tz::Tz,
}

impl Investigations<'_> {
    fn today(&self) -> NaiveDate {
        self.clock.now().with_timezone(&self.tz).date_naive()
    }

    /// What is read before a transaction: who works the line, the public
    /// halves of their own keys by login, and the escrow's (once the office
    /// key exists).
    async fn people(&self) -> Result<People, InvestigationError> {
        let persons = self
            .persons
            .list()
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let escrow = self.keys.current().await?.map(|r| r.escrow_key());
        Ok((persons, escrow, self.keys.recipients().await?))
    }

    /// Records `entry` on appeal `id` as `who`, with the act it is, in one
    /// transaction: the file as it stands is read, the entry checked against
    /// it (`check::admit`, pure), then written (`write_in`). `unlocked` (the
    /// person's key, if they opened it) lets a change of the commission hand
    /// the file's key to the new members at once. Returns the entry's number in
    /// the file.
    pub async fn record(
        &self,
        id: AppealId,
        entry: FileEntry,
        who: Who<'_>,
        unlocked: Option<&Unlocked>,
    ) -> Result<i64, InvestigationError> {
        let now = self.clock.now();
        let today = self.today();
        let people = self.people().await?;
        // An order recorded as a plain act before sealing is not recorded twice.
        let ordered_before = match &entry {
            FileEntry::Ordered { on, .. } => !self
                .journal
                .events_of_kind(Event::InvestigationOrdered { on: *on }.name(), &[id])
                .await?
                .is_empty(),
            _ => false,
        };
        let entry = resolve_members(entry, &people.0)?;

        let mut tx = self.journal.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let appeal = self.journal.get_in(&mut tx, id).await?;
        let file = store::file_in(&mut tx, id).await?;
        let members = store::members_in(&mut tx, id).await?;
        let entries = store::plain_in(&mut tx, id).await?;
        let number = appeal.registration_number.to_string();
        let state = FileState {
            registration_number: &number,
            closed: appeal.status == Status::Closed,
            received: appeal.received_at.with_timezone(&self.tz).date_naive(),
            today,
            ordered: file.is_some(),
            members: &members,
            entries: &entries,
        };
        let admitted = check::admit(entry, &state, who)?;
        let write = Write {
            appeal: &appeal,
            file: file.as_ref(),
            people: &people,
            actor: who.actor(),
            now,
            today,
            ordered_before,
        };
        let (seq, mails) = self
            .write_in(&mut tx, &mut chain, &write, &admitted, unlocked)
            .await?;
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        if mails {
            self.case.alerts.outbox().wake();
        }
        tracing::info!(
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            entry = %admitted.entry.kind(),
            seq,
            actor = write.actor,
            "investigation entry recorded"
        );
        Ok(seq)
    }

    /// Writes an entry the check admitted, in the caller's transaction: the
    /// file made at the order (sealed to a key of its own once the office key
    /// exists, plain before), the commission, the entry's row, its chain event,
    /// the file's key for who may read it now, and the act the entry is.
    /// Returns its number in the file and whether mail was queued.
    async fn write_in(
        &self,
        tx: &mut Tx,
        chain: &mut ChainLock<'_>,
        write: &Write<'_>,
        admitted: &Admitted,
        unlocked: Option<&Unlocked>,
    ) -> Result<(i64, bool), InvestigationError> {
        let Write {
            appeal,
            file,
            people: (persons, escrow, recipients),
            ref actor,
            now,
            today,
            ordered_before,
        } = *write;
        debug_assert_eq!(admitted.permit.action(), admitted.entry.action());
        let (id, entry) = (appeal.id, &admitted.entry);
        // Sealed to a key of its own once the office key exists; plain before
        // (`senim keys init` seals it then).
        let (recipient, key) = match (file, escrow) {
            (Some(f), Some(_)) if f.recipient == PLAIN => {
                return Err(invalid(
                    "the investigation file is still plain while the office key exists: `senim keys init` seals it"
                        .into(),
                ));
            }
            (Some(f), _) => (f.recipient.clone(), None),
            (None, Some(_)) => {
                let key = FileKey::generate();
                store::insert_file(tx, id, &key.recipient(), now, actor).await?;
                (key.recipient(), Some(key))
            }
            (None, None) => {
                store::insert_file(tx, id, PLAIN, now, actor).await?;
                (PLAIN.to_owned(), None)
            }
        };
        if let Some(members) = entry.members() {
            let logins: Vec<String> = members.iter().filter_map(|m| m.login.clone()).collect();
            store::set_members(tx, id, &logins).await?;
        }
        let bytes = serde_json::to_vec(entry).map_err(|e| invalid(format!("entry: {e}")))?;
        let stored = if recipient == PLAIN {
            bytes
        } else {
            seal_to_file(&recipient, &bytes)?
        };
        let seq = store::append(
            tx,
            id,
            entry.kind(),
            entry.dated(),
            entry.request(),
            now,
            actor,
            &stored,
        )
        .await?;
        let mut detail = json!({ "seq": seq, "entry": entry.kind(), "sha256": sha256(&stored) });
        // Whether the report was found substantiated is not confidential: the
        // report counts it (10.13).
        if let FileEntry::Conclusion {
            substantiated: Some(found),
            ..
        } = entry
        {
            detail["substantiated"] = json!(found);
        }
        chain.record(tx, appeal, actor, ENTRY, &detail).await?;
        // The file's key for who may read it now: at the order, the key just
        // made; at a change of the commission, the Director's if she opened it.
        let opened = match (key, unlocked, file) {
            (Some(key), ..) => Some(key),
            (None, Some(unlocked), Some(_)) if entry.members().is_some() => {
                self.file_key_in(tx, id, unlocked).await.ok()
            }
            _ => None,
        };
        if let Some(key) = &opened {
            let members = store::members_in(tx, id).await?;
            let readers = eligible(persons, &members, recipients, escrow.as_ref())?;
            sync_grants_in(tx, chain, appeal, key, &readers, actor, now).await?;
        }
        let mut mails = false;
        if let Some(act) = entry.act(admitted.requested_on).filter(|_| !ordered_before) {
            let detail = self.case.detail(&act)?;
            let (_, m) = self
                .case
                .record_in(tx, chain, id, &act, &detail, actor, now, today)
                .await?;
            mails = m;
        }
        Ok((seq, mails))
    }

    /// The file's key, opened with `unlocked` from its wrap to that person
    /// (or to the escrow).
    async fn file_key_in(
        &self,
        tx: &mut Tx,
        id: AppealId,
        unlocked: &Unlocked,
    ) -> Result<FileKey, InvestigationError> {
        let grants = store::grants_in(tx, id).await?;
        let reader = &unlocked.actor;
        let wrapped = grants
            .iter()
            .find(|(r, _)| r == reader)
            .map(|(_, w)| w)
            .ok_or_else(|| {
                InvestigationError::Forbidden(format!(
                    "{reader} holds no key to this file yet: someone who holds it opens the file to hand it on (their own key must exist: `senim keys enroll`)"
                ))
            })?;
        Ok(FileKey::unwrap(unlocked, wrapped)?)
    }

    /// Opens the file of appeal `id` as `who`, with their key if it is sealed:
    /// an `investigation_read` event names them (and the key, `null` for a
    /// plain file); readers who may read a sealed file and have enrolled since
    /// get the key (an `investigation_access` event). A sealed file without
    /// `unlocked` is `Locked`.
    pub async fn open(
        &self,
        id: AppealId,
        who: Who<'_>,
        unlocked: Option<&Unlocked>,
    ) -> Result<File, InvestigationError> {
        let now = self.clock.now();
        let actor = who.actor();
        let (persons, escrow, recipients) = self.people().await?;
        // Each entry's first hash: of the plain JSON for one sealed in place,
        // which the opened bytes must then match.
        let first: std::collections::BTreeMap<i64, String> = self
            .journal
            .events_of_kind(ENTRY, &[id])
            .await?
            .iter()
            .filter_map(|e| {
                let d: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
                Some((d["seq"].as_i64()?, d["sha256"].as_str()?.to_owned()))
            })
            .collect();

        let mut tx = self.journal.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let appeal = self.journal.get_in(&mut tx, id).await?;
        let file = store::file_in(&mut tx, id).await?.ok_or_else(|| {
            InvestigationError::NotFound(format!(
                "no investigation of {} is ordered",
                appeal.registration_number
            ))
        })?;
        let members = store::members_in(&mut tx, id).await?;
        if !who.may_read(&members) {
            return Err(InvestigationError::Forbidden(
                "the investigation file is read only by the Director, the managers and the commission's members (7.9)".into(),
            ));
        }
        let key = match (file.recipient == PLAIN, unlocked) {
            (true, _) => None,
            (false, Some(unlocked)) => Some(self.file_key_in(&mut tx, id, unlocked).await?),
            (false, None) => {
                return Err(InvestigationError::Locked(
                    "the investigation file is sealed: open it with your own key (or the escrow)"
                        .into(),
                ));
            }
        };
        let mut entries = Vec::new();
        for row in store::entries_in(&mut tx, id).await? {
            let bytes = match &key {
                Some(key) => {
                    let opened = key.open(&row.sealed)?;
                    let recorded = first.get(&row.seq);
                    let sealed_in_place = recorded.is_some_and(|h| *h != sha256(&row.sealed));
                    if sealed_in_place && recorded != Some(&sha256(&opened)) {
                        return Err(JournalError::Corrupt(format!(
                            "investigation entry {}: sealed in place, it differs from what was recorded",
                            row.seq
                        ))
                        .into());
                    }
                    opened
                }
                None => row.sealed,
            };
            let entry: FileEntry = serde_json::from_slice(&bytes).map_err(|e| {
                JournalError::Corrupt(format!("investigation entry {}: {e}", row.seq))
            })?;
            entries.push(Recorded {
                seq: row.seq,
                recorded_at: row.recorded_at,
                actor: row.actor,
                entry,
            });
        }
        if let Some(key) = &key {
            let readers = eligible(&persons, &members, &recipients, escrow.as_ref())?;
            sync_grants_in(&mut tx, &mut chain, &appeal, key, &readers, &actor, now).await?;
        }
        // The person reads; the key they opened it with (theirs, or the
        // escrow) is named beside them.
        chain
            .record(
                &mut tx,
                &appeal,
                &actor,
                READ,
                &json!({ "key": unlocked.filter(|_| key.is_some()).map(|u| &u.actor) }),
            )
            .await?;
        let readers = if key.is_some() {
            store::grants_in(&mut tx, id)
                .await?
                .into_iter()
                .map(|(r, _)| r)
                .collect()
        } else {
            // A plain file is read by role and membership (7.9).
            persons
                .iter()
                .filter(|p| may_hold(p, &members))
                .map(Person::actor)
                .collect()
        };
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            actor,
            "investigation file opened"
        );
        Ok(File {
            appeal_id: id,
            registration_number: appeal.registration_number.to_string(),
            opened_at: file.opened_at,
            opened_by: file.opened_by,
            sealed: key.is_some(),
            readers,
            entries,
        })
    }

    /// Whether appeal `id` has a file, and whether `who` may read it.
    pub async fn exists(
        &self,
        id: AppealId,
        who: Who<'_>,
    ) -> Result<Option<bool>, InvestigationError> {
        // Read without a write transaction: a page view takes no write lock.
        let file = store::file(self.db, id).await?;
        let members = store::members(self.db, id).await?;
        Ok(file.map(|_| who.may_read(&members)))
    }

    /// The files `who` may read, without opening them.
    pub async fn list(&self, who: Who<'_>) -> Result<Vec<Listed>, InvestigationError> {
        let files = store::files(self.db).await?;
        let members = store::all_members(self.db).await?;
        let kinds = store::all_kinds(self.db).await?;
        let mut listed = Vec::new();
        for file in files {
            let of: Vec<String> = members
                .iter()
                .filter(|(a, _)| *a == file.appeal_id)
                .map(|(_, l)| l.clone())
                .collect();
            if !who.may_read(&of) {
                continue;
            }
            let appeal = self.journal.get(AppealId(file.appeal_id)).await?;
            listed.push(Listed {
                appeal_id: appeal.id,
                registration_number: appeal.registration_number.to_string(),
                status: appeal.status,
                opened_at: file.opened_at,
                entries: kinds
                    .iter()
                    .filter(|(a, ..)| *a == file.appeal_id)
                    .filter_map(|(_, k, d)| k.parse().ok().map(|k| (k, *d)))
                    .collect(),
                member: of.iter().any(|l| l == who.login),
            });
        }
        Ok(listed)
    }

    /// Checks each entry's bytes at rest against the last SHA-256 the chain
    /// holds of it: its `investigation_entry` event's, or, for a file sealed in
    /// place, its `investigation_sealed` event's; returns what does not match.
    pub async fn verify(&self) -> Result<Vec<String>, InvestigationError> {
        let rows = store::all_sealed(self.db).await?;
        let ids: Vec<AppealId> = rows
            .iter()
            .map(|(a, ..)| AppealId(*a))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut events = self.journal.events_of_kind(ENTRY, &ids).await?;
        events.extend(self.journal.events_of_kind(SEALED, &ids).await?);
        events.sort_by_key(|e| e.seq);
        let mut hashes = std::collections::BTreeMap::new();
        for e in &events {
            let Ok(d) = serde_json::from_str::<serde_json::Value>(&e.detail) else {
                continue;
            };
            let listed = if e.kind == SEALED {
                d["entries"].as_array().cloned().unwrap_or_default()
            } else {
                vec![d]
            };
            for x in listed {
                if let (Some(seq), Some(hash)) = (x["seq"].as_i64(), x["sha256"].as_str()) {
                    hashes.insert((e.appeal_id, seq), hash.to_owned());
                }
            }
        }
        let mut findings = Vec::new();
        for (appeal, seq, stored) in &rows {
            match hashes.get(&(*appeal, *seq)) {
                Some(hash) if *hash == sha256(stored) => {}
                Some(_) => findings.push(format!(
                    "investigation file of appeal {appeal}: entry {seq} differs from the chain's SHA-256"
                )),
                None => findings.push(format!(
                    "investigation file of appeal {appeal}: entry {seq} is not in the chain"
                )),
            }
        }
        Ok(findings)
    }

    /// Seals every plain file in place (`senim keys init`, in its transaction,
    /// once the office key is in it): each gets a key of its own, wrapped to the
    /// escrow and to each reader with a key (an `investigation_access` event),
    /// each entry's bytes are replaced by their sealing, and an
    /// `investigation_sealed` event gives each entry's new SHA-256 (the first,
    /// of the plain bytes, stays in its `investigation_entry` event). Returns
    /// the number of files sealed.
    pub async fn seal_existing_in(
        &self,
        tx: &mut Tx,
        actor: &str,
    ) -> Result<u64, InvestigationError> {
        let plain = store::plain_files_in(tx).await?;
        if plain.is_empty() {
            return Ok(0);
        }
        let escrow = self
            .keys
            .current_in(tx)
            .await?
            .map(|r| r.escrow_key())
            .ok_or_else(|| invalid("no office key to seal the investigation files to".into()))?;
        let persons = self
            .persons
            .list()
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let recipients = self.keys.recipients().await?;
        let now = self.clock.now();
        let mut chain = self.journal.lock_chain(tx).await?;
        let mut count = 0;
        for id in plain {
            let appeal = self.journal.get_in(tx, id).await?;
            let key = FileKey::generate();
            store::set_recipient(tx, id, &key.recipient()).await?;
            let mut hashes = Vec::new();
            for row in store::entries_in(tx, id).await? {
                let sealed = seal_to_file(&key.recipient(), &row.sealed)?;
                store::replace_bytes(tx, id, row.seq, &sealed).await?;
                hashes.push(json!({ "seq": row.seq, "sha256": sha256(&sealed) }));
            }
            chain
                .record(tx, &appeal, actor, SEALED, &json!({ "entries": hashes }))
                .await?;
            let members = store::members_in(tx, id).await?;
            let readers = eligible(&persons, &members, &recipients, Some(&escrow))?;
            sync_grants_in(tx, &mut chain, &appeal, &key, &readers, actor, now).await?;
            count += 1;
        }
        chain.finish(tx).await?;
        Ok(count)
    }
}

/// Drops the wraps of every file's key to `login` (the reader removed from the
/// keys, in the rotation's transaction).
pub async fn revoke_in(tx: &mut Tx, login: &str) -> Result<u64, sqlx::Error> {
    store::delete_grants_of(tx, &format!("person:{login}")).await
}

/// Erases appeal `id`'s file (retention, in the appeal's destruction).
pub async fn destroy_for_appeal_in(tx: &mut Tx, id: AppealId) -> Result<u64, sqlx::Error> {
    store::destroy_in(tx, id).await
}

/// A member given by login gets the person's name where none is given; a
/// login that names no active person is refused.
fn resolve_members(entry: FileEntry, persons: &[Person]) -> Result<FileEntry, InvestigationError> {
    let resolve = |members: Vec<Member>| -> Result<Vec<Member>, InvestigationError> {
        members
            .into_iter()
            .map(|mut m| {
                if let Some(login) = &m.login {
                    let person = persons
                        .iter()
                        .find(|p| p.login == *login && p.disabled_at.is_none())
                        .ok_or_else(|| {
                            invalid(format!(
                                "members: no active person with the login {login:?}"
                            ))
                        })?;
                    if m.name.trim().is_empty() {
                        m.name = person.full_name.clone();
                    }
                }
                Ok(m)
            })
            .collect()
    };
    Ok(match entry {
        FileEntry::Ordered {
            number,
            on,
            members,
        } => FileEntry::Ordered {
            number,
            on,
            members: resolve(members)?,
        },
        FileEntry::Commission { on, members } => FileEntry::Commission {
            on,
            members: resolve(members)?,
        },
        other => other,
    })
}

/// Whether `p` may read the file whose members who work the line are
/// `members`: an active Director, manager or member (7.9).
fn may_hold(p: &Person, members: &[String]) -> bool {
    p.disabled_at.is_none()
        && rulebook::check_member(
            &p.roles,
            members.contains(&p.login),
            Action::ReadInvestigationFile,
        )
        .is_ok()
}

/// Who may hold the file's key: the escrow, and each active Director, manager
/// and member who has a key of their own; (reader, public key). A person who may
/// hold it but whose key's row does not verify fails it all, naming them: the
/// file's key is never wrapped to a planted key, nor is the file silently kept
/// from a reader.
fn eligible(
    persons: &[Person],
    members: &[String],
    recipients: &PersonKeys,
    escrow: Option<&TrustedKey>,
) -> Result<Vec<(String, TrustedKey)>, InvestigationError> {
    let mut readers: Vec<(String, TrustedKey)> = escrow
        .map(|e| ("escrow".to_owned(), e.clone()))
        .into_iter()
        .collect();
    for p in persons.iter().filter(|p| may_hold(p, members)) {
        match recipients.get(&p.login) {
            None => {}
            Some(Ok(public)) => readers.push((p.actor(), public.clone())),
            Some(Err(_)) => {
                return Err(SealError::Unverified(format!(
                    "the key of `{}` is not signed by this installation's key (edited or planted \
                     outside Senim): the file's key is wrapped to nobody until it is enrolled anew",
                    p.login
                ))
                .into());
            }
        }
    }
    Ok(readers)
}

/// Makes the file's key held by exactly `readers`: wraps it to those who lack
/// it, drops it from those who may no longer read; records the change.
async fn sync_grants_in(
    tx: &mut Tx,
    chain: &mut ChainLock<'_>,
    appeal: &Appeal,
    key: &FileKey,
    readers: &[(String, TrustedKey)],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), InvestigationError> {
    let held: Vec<String> = store::grants_in(tx, appeal.id)
        .await?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let mut granted = Vec::new();
    for (reader, public) in readers {
        if !held.contains(reader) {
            store::insert_grant(tx, appeal.id, reader, &key.wrap_to(public)?, now, actor).await?;
            granted.push(reader.clone());
        }
    }
    let mut revoked = Vec::new();
    for reader in held {
        if !readers.iter().any(|(r, _)| *r == reader) {
            store::delete_grant(tx, appeal.id, &reader).await?;
            revoked.push(reader);
        }
    }
    if !granted.is_empty() || !revoked.is_empty() {
        chain
            .record(
                tx,
                appeal,
                actor,
                ACCESS,
                &json!({ "granted": granted, "revoked": revoked }),
            )
            .await?;
    }
    Ok(())
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
