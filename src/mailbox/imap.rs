//! The connection to the IMAP server: TLS (implicit or STARTTLS, rustls with the
//! system's web PKI roots plus an optional CA file), LOGIN or AUTHENTICATE PLAIN,
//! and the few commands Senim needs: SELECT, UID SEARCH, UID FETCH RFC822.SIZE,
//! UID FETCH BODY.PEEK[] (or BODY.PEEK[HEADER] for a message over the size
//! limit), UID MOVE (or COPY + \Deleted + UID EXPUNGE), UID STORE and IDLE. Every
//! command runs under the configured timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::mailbox::{AfterRegistration, AuthMethod, MailboxConfig, Security};

/// The keyword set on a message once registered (with `after_registration = "flag"`).
pub const REGISTERED_KEYWORD: &str = "$SenimRegistered";

type Stream = TlsStream<TcpStream>;

/// What went wrong talking to the server. Never carries message contents.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to the mailbox server: {0}")]
    Connect(#[source] std::io::Error),
    #[error("TLS with the mailbox server failed: {0}")]
    Tls(String),
    #[error("the mailbox server refused the login: {0}")]
    Login(String),
    #[error("IMAP {command} failed: {error}")]
    Command {
        command: &'static str,
        error: String,
    },
    #[error("IMAP {0} timed out")]
    Timeout(&'static str),
    #[error("the mailbox server has no UIDVALIDITY for the folder")]
    NoUidValidity,
}

/// A message as fetched.
pub struct Fetched {
    pub uid: u32,
    /// The whole message, or only its header (`Part::Header`).
    pub raw: Vec<u8>,
    /// The whole message's size, as the server reports it (RFC822.SIZE).
    pub size: u64,
    pub part: Part,
    pub internal_date: Option<DateTime<Utc>>,
}

/// What is fetched of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Whole,
    /// Only the header: the message is over `mailbox.max_message_bytes`.
    Header,
}

/// What the server can do, from CAPABILITY after login.
#[derive(Clone, Copy, Debug, Default)]
pub struct Capabilities {
    pub move_: bool,
    pub idle: bool,
    pub uidplus: bool,
}

/// How an IDLE ended.
pub enum Woken {
    /// The server reported a change (new mail, most likely).
    Changed,
    /// The renewal interval passed.
    Renew,
    /// Senim is shutting down.
    Shutdown,
}

/// A logged-in session with the configured folder selected.
pub struct Connection {
    session: Session<Stream>,
    pub capabilities: Capabilities,
    pub uidvalidity: u32,
    timeout: Duration,
}

/// The rustls configuration: web PKI roots plus the CA file, if any.
pub fn tls_config(config: &MailboxConfig) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &config.ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| anyhow::anyhow!("mailbox.ca_file: cannot read {}: {e}", path.display()))?;
        for cert in certs {
            let cert = cert.map_err(|e| {
                anyhow::anyhow!("mailbox.ca_file: {} is not PEM: {e}", path.display())
            })?;
            roots.add(cert).map_err(|e| {
                anyhow::anyhow!(
                    "mailbox.ca_file: bad certificate in {}: {e}",
                    path.display()
                )
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(tls))
}

async fn timed<T, E: std::fmt::Display>(
    limit: Duration,
    command: &'static str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ImapError::Command {
            command,
            error: e.to_string(),
        }),
        Err(_) => Err(ImapError::Timeout(command)),
    }
}

struct Plain<'a> {
    user: &'a str,
    password: &'a str,
}

impl async_imap::Authenticator for Plain<'_> {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        format!("\0{}\0{}", self.user, self.password).into_bytes()
    }
}

impl Connection {
    /// Connects, logs in and selects `config.folder`.
    pub async fn open(
        config: &MailboxConfig,
        password: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Connection, ImapError> {
        let limit = config.timeout();
        let host = config.host.trim();
        let tcp = tokio::time::timeout(limit, TcpStream::connect((host, config.effective_port())))
            .await
            .map_err(|_| ImapError::Timeout("connect"))?
            .map_err(ImapError::Connect)?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| ImapError::Tls(format!("mailbox.host `{host}`: {e}")))?;
        let connector = TlsConnector::from(tls);
        let stream = match config.security {
            Security::Tls => {
                let tls = timed(limit, "TLS handshake", connector.connect(name, tcp)).await?;
                let mut client = Client::new(tls);
                timed(limit, "greeting", client.read_response()).await?;
                client
            }
            Security::Starttls => {
                let mut client = Client::new(tcp);
                timed(limit, "greeting", client.read_response()).await?;
                timed(
                    limit,
                    "STARTTLS",
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await?;
                let tcp = client.into_inner();
                let tls = timed(limit, "TLS handshake", connector.connect(name, tcp)).await?;
                Client::new(tls)
            }
        };
        let user = config.username.as_str();
        let login = async {
            match config.auth {
                AuthMethod::Login => stream.login(user, password).await,
                AuthMethod::Plain => stream.authenticate("PLAIN", Plain { user, password }).await,
            }
        };
        let mut session = tokio::time::timeout(limit, login)
            .await
            .map_err(|_| ImapError::Timeout("login"))?
            .map_err(|(e, _)| ImapError::Login(e.to_string()))?;
        let caps = timed(limit, "CAPABILITY", session.capabilities()).await?;
        let capabilities = Capabilities {
            move_: caps.has_str("MOVE"),
            idle: caps.has_str("IDLE"),
            uidplus: caps.has_str("UIDPLUS"),
        };
        if config.after_registration == AfterRegistration::Move {
            // Create the processed folder if it is missing; "already exists" is fine.
            let _ = timed(limit, "CREATE", session.create(&config.processed_folder)).await;
        }
        let mailbox = timed(limit, "SELECT", session.select(&config.folder)).await?;
        let uidvalidity = mailbox.uid_validity.ok_or(ImapError::NoUidValidity)?;
        Ok(Connection {
            session,
            capabilities,
            uidvalidity,
            timeout: limit,
        })
    }

    /// UIDs in the folder not yet settled, ascending.
    pub async fn pending(&mut self, after: AfterRegistration) -> Result<Vec<u32>, ImapError> {
        let query = match after {
            AfterRegistration::Move => "UNDELETED".to_owned(),
            AfterRegistration::Flag => format!("UNDELETED UNKEYWORD {REGISTERED_KEYWORD}"),
        };
        let uids = timed(self.timeout, "UID SEARCH", self.session.uid_search(query)).await?;
        let mut uids: Vec<u32> = uids.into_iter().collect();
        uids.sort_unstable();
        self.drain_unsolicited();
        Ok(uids)
    }

    /// The sizes (RFC822.SIZE) of messages by UID, ascending by UID; a message
    /// gone meanwhile is missing.
    pub async fn sizes(&mut self, uids: &[u32]) -> Result<Vec<(u32, u64)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        let fetched = timed(self.timeout, "UID FETCH RFC822.SIZE", async {
            let stream = self.session.uid_fetch(&set, "(UID RFC822.SIZE)").await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        let mut sizes: Vec<(u32, u64)> = fetched
            .iter()
            .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
            .filter(|(uid, _)| uids.binary_search(uid).is_ok())
            .collect();
        sizes.sort_unstable();
        sizes.dedup_by_key(|(uid, _)| *uid);
        self.drain_unsolicited();
        Ok(sizes)
    }

    /// Fetches messages (whole, or only their headers) by UID without setting \Seen.
    pub async fn fetch(&mut self, batch: &Batch) -> Result<Vec<Fetched>, ImapError> {
        let uids: Vec<u32> = batch.messages.iter().map(|(uid, _)| *uid).collect();
        let set = uid_set(&uids);
        let limit = self.timeout * 4;
        let query = match batch.part {
            Part::Whole => "(UID INTERNALDATE BODY.PEEK[])",
            Part::Header => "(UID INTERNALDATE BODY.PEEK[HEADER])",
        };
        let fetched = timed(limit, "UID FETCH", async {
            let stream = self.session.uid_fetch(&set, query).await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        let size_of = |uid: u32| {
            batch
                .messages
                .binary_search_by_key(&uid, |(u, _)| *u)
                .map(|i| batch.messages[i].1)
                .ok()
        };
        let mut messages: Vec<Fetched> = fetched
            .iter()
            .filter_map(|f| {
                let uid = f.uid?;
                let raw = match batch.part {
                    Part::Whole => f.body()?,
                    Part::Header => f.header()?,
                };
                Some(Fetched {
                    uid,
                    size: size_of(uid)?,
                    raw: raw.to_vec(),
                    part: batch.part,
                    internal_date: f.internal_date().map(|d| d.with_timezone(&Utc)),
                })
            })
            .collect();
        messages.sort_by_key(|m| m.uid);
        messages.dedup_by_key(|m| m.uid);
        Ok(messages)
    }

    /// Settles registered messages: moves them to `folder`, or flags them.
    pub async fn settle(
        &mut self,
        uids: &[u32],
        after: AfterRegistration,
        folder: &str,
    ) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        let limit = self.timeout;
        match after {
            AfterRegistration::Flag => {
                let flags = format!("+FLAGS.SILENT (\\Seen {REGISTERED_KEYWORD})");
                timed(limit, "UID STORE", async {
                    let s = self.session.uid_store(&set, &flags).await?;
                    s.try_collect::<Vec<_>>().await
                })
                .await?;
            }
            AfterRegistration::Move if self.capabilities.move_ => {
                timed(limit, "UID MOVE", self.session.uid_mv(&set, folder)).await?;
            }
            AfterRegistration::Move => {
                timed(limit, "UID COPY", self.session.uid_copy(&set, folder)).await?;
                timed(limit, "UID STORE", async {
                    let s = self
                        .session
                        .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                        .await?;
                    s.try_collect::<Vec<_>>().await
                })
                .await?;
                if self.capabilities.uidplus {
                    timed(limit, "UID EXPUNGE", async {
                        let s = self.session.uid_expunge(&set).await?;
                        s.try_collect::<Vec<_>>().await
                    })
                    .await?;
                } else {
                    timed(limit, "EXPUNGE", async {
                        let s = self.session.expunge().await?;
                        s.try_collect::<Vec<_>>().await
                    })
                    .await?;
                }
            }
        }
        self.drain_unsolicited();
        Ok(())
    }

    /// Waits in IDLE for a change, at most `renew`, or until `shutdown` fires.
    pub async fn idle(
        self,
        renew: Duration,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(Connection, Woken), ImapError> {
        let Connection {
            session,
            capabilities,
            uidvalidity,
            timeout,
        } = self;
        let mut handle = session.idle();
        timed(timeout, "IDLE", handle.init()).await?;
        let woken = {
            let (wait, _stop) = handle.wait_with_timeout(renew);
            tokio::select! {
                r = wait => match r {
                    Ok(async_imap::extensions::idle::IdleResponse::NewData(_)) => Woken::Changed,
                    Ok(_) => Woken::Renew,
                    Err(e) => return Err(ImapError::Command { command: "IDLE", error: e.to_string() }),
                },
                () = tokio::time::sleep(renew) => Woken::Renew,
                _ = shutdown.changed() => Woken::Shutdown,
            }
        };
        if let Woken::Shutdown = woken {
            return Err(ImapError::Command {
                command: "IDLE",
                error: "shutting down".into(),
            });
        }
        let session = timed(timeout, "DONE", handle.done()).await?;
        let mut connection = Connection {
            session,
            capabilities,
            uidvalidity,
            timeout,
        };
        connection.drain_unsolicited();
        Ok((connection, woken))
    }

    /// Says goodbye (best effort).
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }

    fn drain_unsolicited(&mut self) {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
    }
}

/// Messages fetched together: UIDs (ascending) with their sizes, and the part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub messages: Vec<(u32, u64)>,
    pub part: Part,
}

/// Splits messages (ascending UIDs with their sizes) into batches, in UID order
/// (a reply comes after its original): those over `max_message_bytes` by their
/// headers only; the others whole, at most `count` and `max_bytes` together (a
/// single larger message alone).
pub fn plan(
    sizes: &[(u32, u64)],
    count: usize,
    max_bytes: u64,
    max_message_bytes: u64,
) -> Vec<Batch> {
    let count = count.max(1);
    let mut batches: Vec<Batch> = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in sizes {
        let (part, weight) = if size > max_message_bytes {
            (Part::Header, 0)
        } else {
            (Part::Whole, size)
        };
        match batches.last_mut() {
            Some(last)
                if last.part == part
                    && last.messages.len() < count
                    && bytes.saturating_add(weight) <= max_bytes =>
            {
                last.messages.push((uid, size));
                bytes = bytes.saturating_add(weight);
            }
            _ => {
                batches.push(Batch {
                    messages: vec![(uid, size)],
                    part,
                });
                bytes = weight;
            }
        }
    }
    batches
}

/// `1:3,7,9:10` from sorted UIDs.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            end += 1;
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Batch, Part, plan};

    #[test]
    fn batches_are_capped_by_count_and_bytes_and_oversize_is_header_only() {
        let sizes = [
            (1, 400),
            (2, 400),
            (3, 400),
            (4, 5000),
            (5, 6000),
            (6, 100),
            (7, 900),
            (8, 100),
        ];
        let batches = plan(&sizes, 2, 1000, 1000);
        let whole = |m: &[(u32, u64)]| Batch {
            messages: m.to_vec(),
            part: Part::Whole,
        };
        assert_eq!(
            batches,
            vec![
                whole(&[(1, 400), (2, 400)]),
                whole(&[(3, 400)]),
                Batch {
                    messages: vec![(4, 5000), (5, 6000)],
                    part: Part::Header
                },
                whole(&[(6, 100), (7, 900)]),
                whole(&[(8, 100)]),
            ]
        );
        // A message over the byte cap but under the size limit goes alone.
        let batches = plan(&[(1, 10), (2, 3000), (3, 10)], 100, 1000, 5000);
        assert_eq!(
            batches,
            vec![whole(&[(1, 10)]), whole(&[(2, 3000)]), whole(&[(3, 10)])]
        );
    }

    #[test]
    fn uid_sets_are_compressed() {
        assert_eq!(super::uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(super::uid_set(&[5]), "5");
    }
}
