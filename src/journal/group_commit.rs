//! Group commit: registrations from concurrent callers are taken by one writer
//! task and registered together in one transaction, so they share one lock of the
//! chain's head and one flush to disk. Each caller still gets its answer only
//! after the commit, so "registered" always means "durable".
//!
//! If anything in a batch fails, the batch is rolled back and each registration in
//! it is retried on its own, so one bad appeal cannot fail the others.

use tokio::sync::{mpsc, oneshot};

use super::register::Presealed;
use super::{Journal, JournalError, NewAppeal, Registration, Result, registered};

/// How many registrations one transaction takes at most.
const MAX_BATCH: usize = 256;

/// The writer task's inbox.
pub(super) type Queue = mpsc::Sender<Pending>;

pub(super) struct Pending {
    new: NewAppeal,
    /// Its identity and text, sealed by the caller before it queued (sealing is
    /// work for the processor, not for the writer holding the chain's lock).
    sealed: Option<Presealed>,
    reply: oneshot::Sender<Result<Registration>>,
}

/// Hands a registration to the writer (starting it on first use) and waits for
/// its outcome. If the writer is gone (its runtime ended), registers directly:
/// registration is idempotent, so a retry never doubles an appeal.
pub(super) async fn submit(journal: &Journal, new: NewAppeal) -> Result<Registration> {
    let queue = journal.queue.get_or_init(|| start_writer(journal));
    let (reply, answer) = oneshot::channel();
    let pending = Pending {
        sealed: journal.preseal(&new)?,
        new: new.clone(),
        reply,
    };
    if queue.send(pending).await.is_err() {
        return journal.register_alone(new).await;
    }
    match answer.await {
        Ok(outcome) => outcome,
        Err(_) => journal.register_alone(new).await,
    }
}

fn start_writer(journal: &Journal) -> Queue {
    let (queue, inbox) = mpsc::channel(MAX_BATCH * 4);
    // The writer's own handle has no queue, so it does not keep itself alive:
    // when the last Journal handle is dropped, the inbox closes and it ends.
    let writer = Journal {
        queue: Default::default(),
        ..journal.clone()
    };
    tokio::spawn(run_writer(writer, inbox));
    queue
}

async fn run_writer(journal: Journal, mut inbox: mpsc::Receiver<Pending>) {
    while let Some(first) = inbox.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        commit_batch(&journal, batch).await;
    }
}

async fn commit_batch(journal: &Journal, batch: Vec<Pending>) {
    metrics::histogram!("senim_journal_group_commit_size").record(batch.len() as f64);
    match register_batch(journal, &batch).await {
        Ok(outcomes) => {
            for (pending, outcome) in batch.into_iter().zip(outcomes) {
                registered(&outcome);
                let _ = pending.reply.send(Ok(outcome));
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(pending) = batch.into_iter().next() {
                let _ = pending.reply.send(Err(error));
            }
        }
        Err(error) => {
            tracing::warn!(%error, size = batch.len(), "group commit failed; registering one by one");
            for pending in batch {
                let outcome = journal.register_alone(pending.new).await;
                let _ = pending.reply.send(outcome);
            }
        }
    }
}

async fn register_batch(
    journal: &Journal,
    batch: &[Pending],
) -> Result<Vec<Registration>, JournalError> {
    let mut tx = journal.db.begin().await?;
    let mut chain = journal.lock_chain(&mut tx).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for pending in batch {
        outcomes.push(
            chain
                .register_presealed(&mut tx, pending.new.clone(), pending.sealed.clone())
                .await?,
        );
    }
    chain.finish(&mut tx).await?;
    tx.commit().await?;
    Ok(outcomes)
}
