//! A new appeal told at once (6.3), in its registration's transaction (the
//! Journal's `OnRegistered` hook): the managers get a notice of every new
//! appeal, after hours too (`alerts.arrival_notice`); an appeal whose words
//! suggest a criminal offence or a threat to security (the lexicon's
//! `criminal_offence`) is told to the managers and the Director, marked urgent,
//! whatever that switch says. The notices carry no identity and no text. A call
//! is registered before the operator's notes give its words: the hook runs again
//! when they do (`Journal::completed_in`), and a plain notice is not repeated.

use chrono::SubsecRound;
use futures_util::future::BoxFuture;

use super::content;
use super::policy::Policy;
use crate::db::Tx;
use crate::journal::{Appeal, Category, JournalError, OnRegistered};
use crate::outbox::{Mail, MailKind, Outbox, OutboxError};
use crate::triage::suggestion_for;

/// The arrival notices: what a registration tells at once.
pub struct Arrival {
    policy: Policy,
    outbox: Outbox,
}

impl Arrival {
    pub fn new(policy: Policy, outbox: Outbox) -> Self {
        Self { policy, outbox }
    }

    async fn notify_in(&self, tx: &mut Tx, appeal: &Appeal) -> Result<(), JournalError> {
        let p = &self.policy;
        let threat = suggestion_for(appeal).category == Some(Category::CriminalOffence);
        let now = appeal.registered_at.trunc_subsecs(0);
        let number = appeal.registration_number.to_string();
        let managers = p.managers.iter().filter(|_| threat || p.arrival_notice);
        let director = p.director.iter().filter(|_| threat);
        let mails = managers
            .map(|to| (to, MailKind::ArrivalNotice))
            .chain(director.map(|to| (to, MailKind::ThreatNotice)));
        for (to, kind) in mails {
            let mail = Mail {
                kind,
                // Once per appeal and address; a threat found later (in a
                // call's notes) is told even after the plain notice.
                dedupe_key: format!(
                    "{kind}:{}:{}{}",
                    appeal.id,
                    to.email,
                    if threat { ":threat" } else { "" }
                ),
                reference: number.clone(),
                appeal_id: Some(appeal.id.0),
                to: to.clone(),
                subject: if threat {
                    content::threat_subject(appeal)
                } else {
                    content::arrival_subject(appeal)
                },
                body: content::arrival_body(appeal, threat, p.tz),
                urgent: threat,
                due_by: None,
                escalate_at: None,
            };
            self.outbox
                .enqueue_in(tx, &p.from, &mail, now)
                .await
                .map_err(|e| match e {
                    // A busy database is the registration's to retry.
                    OutboxError::Unavailable(e) | OutboxError::Database(e) => e.into(),
                    other => JournalError::Corrupt(format!("arrival notice: {other}")),
                })?;
        }
        Ok(())
    }
}

impl OnRegistered for Arrival {
    fn on_registered_in<'a>(
        &'a self,
        tx: &'a mut Tx,
        appeal: &'a Appeal,
    ) -> BoxFuture<'a, crate::journal::Result<()>> {
        Box::pin(self.notify_in(tx, appeal))
    }
}
