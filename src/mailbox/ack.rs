//! The acknowledgement a sender gets: registration number and date, what happens
//! next and by when (15 working days, APPK Art. 76), in Kazakh and Russian (and
//! English by config), threaded on their message and marked
//! `Auto-Submitted: auto-replied` (RFC 3834). Building it is pure; whether to
//! send it now is `eligible` (never to machines or unusable addresses) plus the
//! per-sender period in `mail_ack_log`. It is built from the plaintext in hand at
//! intake, before anything is sealed; the outbox seals it while it waits.

use chrono::NaiveDate;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use sha2::{Digest, Sha256};

use super::message::{ACK_ID_PREFIX, Reading};
pub use crate::config::mailbox::Language;
use crate::journal::Appeal;

/// Why a sender gets no receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoReceipt {
    /// A bounce, auto-reply or list message (RFC 3834).
    Automatic,
    /// No address, or one that cannot take a reply (no-reply, MAILER-DAEMON).
    NoUsableAddress,
}

/// The address a receipt would go to, if the message allows one at all.
pub fn eligible(reading: &Reading) -> Result<Mailbox, NoReceipt> {
    if reading.automatic.is_some() {
        return Err(NoReceipt::Automatic);
    }
    let address = reading
        .from_address
        .as_deref()
        .ok_or(NoReceipt::NoUsableAddress)?;
    let local = address
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let unusable = [
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "mailer-daemon",
        "postmaster",
    ];
    if unusable.iter().any(|u| local == *u) {
        return Err(NoReceipt::NoUsableAddress);
    }
    address
        .parse::<lettre::Address>()
        .map(|a| Mailbox::new(None, a))
        .map_err(|_| NoReceipt::NoUsableAddress)
}

/// The hash of a sender for `mail_ack_log`: SHA-256 of the lower-cased address,
/// so the log itself holds no address. Sealed, the log keeps its keyed hash
/// instead (`store::claim_ack`, `store::message_key`), so a guessed address cannot
/// be confirmed from the database.
pub fn sender_hash(to: &Mailbox) -> String {
    hex::encode(Sha256::digest(
        to.email.to_string().to_lowercase().as_bytes(),
    ))
}

/// A receipt ready for the outbox.
#[derive(Clone, Debug)]
pub struct ReceiptMail {
    pub to: Mailbox,
    pub subject: String,
    pub body: String,
    /// Without angle brackets; embeds the registration number.
    pub message_id: String,
    /// The sender's Message-ID, without angle brackets.
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}

/// Builds the receipt for a newly registered appeal; `deadline` is its reply
/// deadline, as `deadlines` computes it.
pub fn receipt(
    appeal: &Appeal,
    deadline: NaiveDate,
    reading: &Reading,
    to: Mailbox,
    languages: &[Language],
    domain: &str,
) -> ReceiptMail {
    let number = appeal.registration_number.to_string();
    let date = appeal.registration_date.format("%d.%m.%Y").to_string();
    let deadline = deadline.format("%d.%m.%Y").to_string();
    let days = crate::deadlines::REPLY_WORKING_DAYS;
    // A sender who gave no name is promised no reply (6.3).
    let anonymous = appeal.anonymous;
    let mut subjects = Vec::new();
    let mut sections = Vec::new();
    for language in languages {
        let (subject, text) = match language {
            Language::Kk => (format!("Өтініш тіркелді № {number}"), {
                let reply = if anonymous {
                    "Сіз атыңызды көрсетпедіңіз: жасырын өтініш қаралмайды, қылмыс немесе мемлекет пен қоғам қауіпсіздігіне қатер туралы хабарламаны қоспағанда (6.3), ол уәкілетті органға жіберіледі. Жауап алу үшін тегіңізді, атыңызды және мекенжайыңызды көрсетіп, осы хатқа жауап беріңіз.".to_owned()
                } else {
                    format!(
                        "Жауап заңда белгіленген мерзімде, {deadline} дейін ({days} жұмыс күні) жіберіледі."
                    )
                };
                format!(
                    "Сіздің өтінішіңіз {date} күні сенім желісінің журналында № {number} болып тіркелді.\n\
                     Ол сыбайлас жемқорлыққа қарсы іс-қимыл жөніндегі жауапты тұлғаға берілді. \
                     {reply}\n\
                     Хатқа жауап бергенде тіркеу нөмірін сақтаңыз.\n\
                     Сыбайлас жемқорлыққа қарсы күреске жәрдемдесетін адам туралы мәліметтер мемлекеттік құпия болып табылады."
                )
            }),
            Language::Ru => (
                format!("Обращение зарегистрировано № {number}"),
                {
                    let reply = if anonymous {
                        "Вы не указали своё имя: анонимное обращение не рассматривается, кроме сообщения о преступлении или угрозе безопасности государства и общества (6.3), которое направляется в уполномоченный орган. Чтобы получить ответ, ответьте на это письмо, указав фамилию, имя и адрес.".to_owned()
                    } else {
                        format!(
                            "Ответ будет направлен в срок, установленный законом, до {deadline} ({days} рабочих дней)."
                        )
                    };
                    format!(
                        "Ваше обращение зарегистрировано {date} в журнале телефона доверия под № {number}.\n\
                     Оно передано ответственному лицу по противодействию коррупции. \
                     {reply}\n\
                     Отвечая на это письмо, сохраните номер регистрации.\n\
                     Сведения о лице, оказывающем содействие в противодействии коррупции, являются государственным секретом."
                    )
                },
            ),
            Language::En => (format!("Appeal registered No. {number}"), {
                let reply = if anonymous {
                    "You gave no name: an anonymous appeal is not considered, except one reporting a criminal offence or a threat to state or public security (6.3), which is forwarded to the competent body. To receive a reply, answer this message with your surname, name and address.".to_owned()
                } else {
                    format!(
                        "You will receive a reply within the time the law sets, by {deadline} ({days} working days)."
                    )
                };
                format!(
                    "Your appeal was registered on {date} in the trust line's journal as No. {number}.\n\
                     It has been passed to the officer responsible for anti-corruption. \
                     {reply}\n\
                     Please keep the registration number when you reply to this message.\n\
                     Information about a person who helps to fight corruption is a state secret."
                )
            }),
        };
        subjects.push(subject);
        sections.push(text);
    }
    let mut references = reading.references.clone();
    if let Some(id) = &reading.message_id {
        references.push(id.clone());
    }
    ReceiptMail {
        to,
        subject: subjects.first().cloned().unwrap_or_default(),
        body: sections.join("\n\n— — —\n\n") + "\n",
        message_id: format!(
            "{ACK_ID_PREFIX}{number}.{}@{domain}",
            uuid::Uuid::new_v4().simple()
        ),
        in_reply_to: reading.message_id.clone(),
        references,
    }
}

/// `Auto-Submitted: auto-replied` (RFC 3834 section 5).
#[derive(Clone, Debug)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-replied".to_owned())
    }
}

impl ReceiptMail {
    /// The e-mail, from `from` (the dedicated mailbox's address).
    pub fn to_message(&self, from: Mailbox) -> Result<Message, lettre::error::Error> {
        let mut builder = Message::builder()
            .from(from)
            .to(self.to.clone())
            .subject(self.subject.clone())
            .message_id(Some(format!("<{}>", self.message_id)))
            .header(AutoSubmitted)
            .header(ContentType::TEXT_PLAIN);
        if let Some(id) = &self.in_reply_to {
            builder = builder.in_reply_to(format!("<{id}>"));
        }
        if !self.references.is_empty() {
            let refs: Vec<String> = self.references.iter().map(|r| format!("<{r}>")).collect();
            builder = builder.references(refs.join(" "));
        }
        builder.body(self.body.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{AppealId, Category, Channel, RegistrationNumber, Reporter, Status};
    use chrono::Utc;

    /// 2 March 2026, 10:00 in Astana.
    fn at() -> chrono::DateTime<Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00+05:00")
            .expect("a valid instant")
            .to_utc()
    }

    fn appeal() -> Appeal {
        Appeal {
            id: AppealId(1),
            registration_number: RegistrationNumber::new("TL", 2026, 42),
            received_at: at(),
            registered_at: at(),
            registration_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            channel: Channel::Email,
            reporter: Reporter::default(),
            anonymous: true,
            no_return_address: false,
            subject: None,
            substance: None,
            category: Category::Unclassified,
            status: Status::Registered,
            updated_at: at(),
            sealed: None,
            terms: Vec::new(),
        }
    }

    #[test]
    fn receipt_is_threaded_bilingual_and_auto_submitted() {
        let reading = Reading {
            message_id: Some("orig@example.kz".into()),
            from_address: Some("citizen@example.kz".into()),
            ..Reading::default()
        };
        let to = eligible(&reading).unwrap();
        let deadline = NaiveDate::from_ymd_opt(2026, 3, 23).unwrap();
        let named = Appeal {
            anonymous: false,
            ..appeal()
        };
        let r = receipt(
            &named,
            deadline,
            &reading,
            to.clone(),
            &[Language::Kk, Language::Ru, Language::En],
            "senim.example.kz",
        );
        assert!(r.body.contains("TL-2026-000042") && r.body.contains("23.03.2026"));
        // A sender who gave no name is promised no reply, and told why (6.3).
        let anonymous = receipt(
            &appeal(),
            deadline,
            &reading,
            to,
            &[Language::Kk, Language::Ru, Language::En],
            "senim.example.kz",
        );
        assert!(!anonymous.body.contains("23.03.2026"), "{}", anonymous.body);
        assert!(
            anonymous.body.contains("жасырын өтініш қаралмайды")
                && anonymous
                    .body
                    .contains("анонимное обращение не рассматривается")
                && anonymous
                    .body
                    .contains("an anonymous appeal is not considered"),
            "{}",
            anonymous.body
        );
        assert!(r.body.contains("тіркелді") && r.body.contains("зарегистрировано"));
        // Clause 10.5: the helper's identity is a state secret, in every language.
        assert!(r.body.contains("мемлекеттік құпия"), "{}", r.body);
        assert!(r.body.contains("государственным секретом"), "{}", r.body);
        assert!(r.body.contains("is a state secret"), "{}", r.body);
        assert!(r.message_id.starts_with("senim-ack.TL-2026-000042."));
        let from: Mailbox = "Senim <trust@example.kz>".parse().unwrap();
        let text = String::from_utf8(r.to_message(from).unwrap().formatted()).unwrap();
        assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
        assert!(text.contains("In-Reply-To: <orig@example.kz>"), "{text}");
    }

    #[test]
    fn no_receipt_for_machines_or_unusable_addresses() {
        let bounce = Reading {
            from_address: Some("a@b.kz".into()),
            automatic: Some(super::super::rules::Automatic {
                kind: super::super::rules::AutomaticKind::Bounce,
                rule: "x",
            }),
            ..Reading::default()
        };
        assert_eq!(eligible(&bounce).err(), Some(NoReceipt::Automatic));
        for address in [None, Some("no-reply@b.kz"), Some("not an address")] {
            let r = Reading {
                from_address: address.map(str::to_owned),
                ..Reading::default()
            };
            assert_eq!(eligible(&r).err(), Some(NoReceipt::NoUsableAddress));
        }
    }
}
