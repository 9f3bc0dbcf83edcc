//! Registration: an appeal's number taken gapless in its registration year, its
//! outside references (exactly once per outside item), its envelope sealed ahead
//! (`preseal`), the `registered` event and the hooks of `OnRegistered`.

use chrono::{Datelike, SubsecRound};

use super::{
    Appeal, AppealId, Category, Journal, NewAppeal, Registration, RegistrationNumber, Result,
    SourceRef, appeal, audit, group_commit, sealed, store,
};
use crate::db::Tx;

impl Journal {
    /// Registers an appeal and returns once it is durable. Concurrent calls share
    /// one transaction and one disk flush (group commit, see `group_commit`); the
    /// outcome of each is that of `register_in`.
    pub async fn register(&self, new: NewAppeal) -> Result<Registration> {
        group_commit::submit(self, new).await
    }

    /// Registers one appeal in a transaction of its own.
    pub(super) async fn register_alone(&self, new: NewAppeal) -> Result<Registration> {
        let mut tx = self.db.begin().await?;
        let registration = self.register_in(&mut tx, new).await?;
        tx.commit().await?;
        registered(&registration);
        Ok(registration)
    }

    /// Registers an appeal inside the caller's transaction. If its source (or any
    /// of its other references) is already registered, returns that registration
    /// and writes nothing. Otherwise the appeal gets the next number of its
    /// registration year; the number is gapless because it is taken in the same
    /// transaction as the insert.
    pub async fn register_in(&self, tx: &mut Tx, new: NewAppeal) -> Result<Registration> {
        let mut chain = self.lock_chain(tx).await?;
        let registration = chain.register(tx, new).await?;
        chain.finish(tx).await?;
        Ok(registration)
    }

    /// The envelope of a new appeal's identity and text, sealed ahead of its
    /// registration (`None` when sealing is off).
    pub(super) fn preseal(&self, new: &NewAppeal) -> Result<Option<Presealed>> {
        if !self.sealer.is_on() {
            return Ok(None);
        }
        let reporter = new.reporter.clone().normalised();
        let fields = sealed::Confidential::of(
            Some(&reporter),
            appeal::clean(new.subject.clone()).as_ref(),
            appeal::clean(new.substance.clone()).as_ref(),
        );
        let envelope = sealed::seal(&self.sealer, &fields)?;
        Ok(Some(Presealed { fields, envelope }))
    }

    /// Registers an appeal in a transaction that holds the chain's `head`; its
    /// envelope, if sealed ahead to the current office key, is used as it is.
    pub(super) async fn register_locked(
        &self,
        tx: &mut Tx,
        head: &mut audit::Head,
        new: NewAppeal,
        presealed: Option<Presealed>,
    ) -> Result<Registration> {
        let mut refs = vec![new.source.clone()];
        refs.extend(new.also_known_as.iter().cloned());
        if let Some(id) = store::find_source_in(tx, &refs).await? {
            // Remember the references it came with this time (a new UID after a
            // UIDVALIDITY change, say), so the next look-up finds it directly.
            store::add_sources(tx, id, &refs).await?;
            return Ok(Registration::Existing(self.get_in(tx, id).await?));
        }

        let now = self.clock.now().trunc_subsecs(6);
        let received_at = new.received_at.trunc_subsecs(6);
        let registration_date = self.calendar.registration_date(received_at);
        let year = registration_date.year();
        let seq = store::next_number(tx, &self.prefix, year).await?;
        let number =
            RegistrationNumber::new(&self.prefix, year, u32::try_from(seq).unwrap_or(u32::MAX));

        let reporter = new.reporter.clone().normalised();
        let appeal = Appeal {
            id: AppealId(0),
            registration_number: number,
            received_at,
            registered_at: now,
            registration_date,
            channel: new.channel,
            anonymous: reporter.is_anonymous(),
            no_return_address: reporter.has_no_return_address(),
            reporter,
            subject: appeal::clean(new.subject.clone()),
            substance: appeal::clean(new.substance.clone()),
            category: Category::Unclassified,
            status: new.status,
            updated_at: now,
            sealed: None,
            terms: Vec::new(),
        };
        // Sealed: the row keeps no identity and no text; they go in an envelope
        // only a person's key opens, and the words triage and routing need are
        // found now, while the text is in hand.
        let presealed = match presealed {
            Some(p) if Some(p.envelope.generation) == self.sealer.current_generation() => Some(p),
            _ => self.preseal(&new)?,
        };
        let (appeal, envelope, email_tag) = if let Some(Presealed { fields, envelope }) = presealed
        {
            let email_tag = appeal
                .reporter
                .email
                .as_deref()
                .and_then(|e| self.email_tag(e));
            let stored = Appeal {
                sealed: Some(sealed::next_digest(None, &envelope)),
                terms: self.terms_in(&appeal.text()),
                ..appeal.redacted()
            };
            (stored, Some((fields, envelope)), email_tag)
        } else {
            (appeal, None, None)
        };
        let id = store::insert_appeal(tx, &appeal, seq, email_tag.as_deref()).await?;
        // What was inserted, with its id: the same values a read-back would give.
        let appeal = Appeal {
            id: AppealId(id),
            ..appeal
        };
        if let Some((fields, envelope)) = &envelope {
            sealed::insert_envelope(tx, id, fields, envelope, true).await?;
        }
        store::add_sources(tx, appeal.id, &refs).await?;

        let detail = serde_json::json!({
            "channel": appeal.channel,
            "source": new.source.to_string(),
            "received_at": received_at,
        });
        audit::append(tx, head, &appeal, now, &new.actor, "registered", &detail).await?;
        for follower in &self.followers {
            follower.on_registered_in(tx, &appeal).await?;
        }
        Ok(Registration::New(appeal))
    }

    /// The appeal an outside item was registered as, if any.
    pub async fn find_source(&self, source: &SourceRef) -> Result<Option<Appeal>> {
        let id = store::source_appeal(&self.db, source).await?;
        match id {
            Some(id) => Ok(Some(self.get(id).await?)),
            None => Ok(None),
        }
    }

    /// Rewrites, in `tx`, the keys of every outside reference of kind `kind` as
    /// `rekey` says (the channel that gave them, when sealing turns its plain keys
    /// into keyed hashes: `mailbox::Mailbox::seal_existing_in`). Returns how many.
    pub async fn rekey_sources_in(
        &self,
        tx: &mut Tx,
        kind: &str,
        rekey: impl Fn(&str) -> String,
    ) -> Result<u64> {
        store::rekey_sources_in(tx, kind, rekey).await
    }
}

/// A new appeal's identity and text sealed before its registration.
#[derive(Clone, Debug)]
pub(crate) struct Presealed {
    pub(super) fields: sealed::Confidential,
    pub(super) envelope: crate::sealing::Sealed,
}

/// Logs and counts a registration once its transaction has committed. `register`
/// does this itself; a caller of `register_in` calls it after its own commit.
pub fn registered(registration: &Registration) {
    if let Registration::New(appeal) = registration {
        metrics::counter!("senim_appeals_registered_total", "channel" => appeal.channel.as_str())
            .increment(1);
        tracing::info!(
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            channel = %appeal.channel,
            "appeal registered"
        );
    }
}
