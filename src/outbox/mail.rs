//! Building one e-mail with lettre: headers are lettre's (never concatenated
//! text), so a subject in Kazakh or Russian is RFC 2047-encoded and a CR/LF in
//! it cannot start a new header. The Message-ID is chosen here, once, and stored.

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};

crate::text_enum! {
    /// What a mail in the outbox is for.
    MailKind {
        /// An appeal classified as corruption, to the Director (10.6).
        CorruptionAlert = "corruption_alert",
        /// A criminal offence or security threat, to the Director and the competent body (6.3).
        UrgentAlert = "urgent_alert",
        /// Appeals still unclassified at the cutoff, to the Director in one mail (10.6).
        UnclassifiedDigest = "unclassified_digest",
        /// A call whose record the PBX delivered late, to the Director at once (10.6).
        LateDeliveryAlert = "late_delivery_alert",
        /// An alert undelivered near its deadline, copied to a deputy.
        Escalation = "escalation",
        /// An appeal sent on to a structural unit (10.9).
        Routing = "routing",
        /// The manager's 09:00 digest of deadlines.
        DeadlineDigest = "deadline_digest",
        /// The receipt to a citizen who wrote to the mailbox.
        Receipt = "receipt",
        /// A new appeal, to the managers at once (6.3): number, channel, time,
        /// suggested category; no identity, no text.
        ArrivalNotice = "arrival_notice",
        /// A new appeal whose words suggest a criminal offence or a threat to
        /// security, to the Director at once (6.3), before any classification.
        ThreatNotice = "threat_notice",
        /// The audit chain's signed head, to the auditors, daily.
        AuditHead = "audit_head",
        /// Mail about an appeal from an address other than the reporter's, to the managers.
        UnverifiedCorrespondence = "unverified_correspondence",
        /// The reply to the citizen by e-mail (APPK Art. 76), threaded to the receipt.
        Reply = "reply",
    }
}

/// A mail about to be enqueued: one recipient, plain text.
#[derive(Clone, Debug)]
pub struct Mail {
    pub kind: MailKind,
    /// What this mail is, once (e.g. `corruption_alert:42:director@x`): enqueueing
    /// the same key again does nothing.
    pub dedupe_key: String,
    /// A registration number or a date, for `senim outbox list` and the logs.
    pub reference: String,
    pub appeal_id: Option<i64>,
    pub to: Mailbox,
    pub subject: String,
    pub body: String,
    /// Marked urgent (`X-Priority: 1`, `Importance: high`).
    pub urgent: bool,
    /// An alert's legal deadline.
    pub due_by: Option<DateTime<Utc>>,
    /// When, if still undelivered, it is copied to the deputies.
    pub escalate_at: Option<DateTime<Utc>>,
}

/// A mail formatted for sending: its Message-ID and bytes.
pub struct Formatted {
    pub message_id: String,
    pub bytes: Vec<u8>,
}

/// Formats `mail` from `from`, dated `now`, with a new Message-ID.
pub fn format(
    from: &Mailbox,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<Formatted, lettre::error::Error> {
    let domain = from.email.domain();
    let message_id = format!(
        "<{}.{}@{domain}>",
        mail.kind.as_str(),
        uuid::Uuid::new_v4().simple()
    );
    let mut message = Message::builder()
        .from(from.clone())
        .to(mail.to.clone())
        .subject(mail.subject.clone())
        .date(now.into())
        .message_id(Some(message_id.clone()))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())?;
    if mail.urgent {
        let headers = message.headers_mut();
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Priority"),
            "1 (Highest)".to_owned(),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Importance"),
            "high".to_owned(),
        ));
    }
    Ok(Formatted {
        message_id,
        bytes: message.formatted(),
    })
}
