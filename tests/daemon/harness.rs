//! Self-tests of the test harness: the servers in `tests/support` start,
//! behave as documented, and accept the clients the product uses
//! (async-imap over tokio-rustls, lettre with rustls).

use crate::support;

use std::net::TcpStream as StdTcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use support::dovecot::{Dovecot, DovecotOptions};
use support::ports::free_port;
use support::smtp::{SmtpMode, SmtpOptions, SmtpServer};

/// Upper bound for a message to reach the SMTP spool (not a timing assertion).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// A small RFC 5322 message with the given subject.
fn raw_message(subject: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.test>\r\nTo: senim@example.test\r\n\
         Subject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\nHello.\r\n"
    )
    .into_bytes()
}

fn refuses_connections(host: &str, port: u16) -> bool {
    StdTcpStream::connect((host, port)).is_err()
}

#[test]
fn free_port_can_be_bound() {
    let port = free_port();
    assert_ne!(port, 0);
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the free port");
}

#[test]
fn dovecot_tracks_uids_uidvalidity_and_survives_restart() {
    let mut dovecot = Dovecot::start();
    dovecot.append("INBOX", &raw_message("first"));
    dovecot.append("INBOX", &raw_message("second"));
    assert_eq!(dovecot.list_uids("INBOX"), vec![1, 2]);
    assert_eq!(dovecot.message_count("INBOX"), 2);
    assert_eq!(dovecot.uid_next("INBOX"), 3);
    assert!(
        !dovecot
            .flags("INBOX", 1)
            .iter()
            .any(|flag| flag == "\\Seen")
    );

    let original = dovecot.uidvalidity("INBOX");
    let reset = dovecot.reset_uidvalidity("INBOX");
    assert_ne!(reset, original);
    assert_eq!(dovecot.uidvalidity("INBOX"), reset);

    dovecot.create_mailbox("Archive/2024");
    dovecot.append("Archive/2024", &raw_message("archived"));
    assert_eq!(dovecot.list_uids("Archive/2024"), vec![1]);

    dovecot.restart();
    assert_eq!(dovecot.list_uids("INBOX"), vec![1, 2]);
    assert_eq!(dovecot.uidvalidity("INBOX"), reset);
    assert_eq!(dovecot.message_count("Archive/2024"), 1);

    dovecot.stop();
    assert!(refuses_connections(dovecot.host(), dovecot.imap_port()));
    assert!(refuses_connections(dovecot.host(), dovecot.imaps_port()));
}

/// A rustls connector trusting only the CA in `ca_pem`.
fn tls_connector(ca_pem: &Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem).expect("read CA PEM") {
        roots.add(cert.expect("parse CA PEM")).expect("add CA");
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn server_name(name: &str) -> ServerName<'static> {
    ServerName::try_from(name.to_owned()).expect("valid server name")
}

/// IMAPS: TLS from the first byte, verified as `name`; greeting read.
async fn imaps_client(dovecot: &Dovecot, name: &str) -> Client<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect((dovecot.host(), dovecot.imaps_port()))
        .await
        .expect("connect");
    let tls = tls_connector(dovecot.ca_pem_path())
        .connect(server_name(name), tcp)
        .await
        .expect("TLS handshake (rustls must accept the test certificate)");
    greeted(tls).await
}

/// An IMAP client on `stream`, once the server's greeting is read.
async fn greeted<S>(stream: S) -> Client<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut client = Client::new(stream);
    client
        .read_response()
        .await
        .expect("read greeting")
        .expect("greeting");
    client
}

/// IMAP on the plain port, upgraded with STARTTLS.
async fn starttls_client(dovecot: &Dovecot) -> Client<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect((dovecot.host(), dovecot.imap_port()))
        .await
        .expect("connect");
    let mut client = greeted(tcp).await;
    client
        .run_command_and_check_ok("STARTTLS", None)
        .await
        .expect("STARTTLS");
    let tls = tls_connector(dovecot.ca_pem_path())
        .connect(server_name(dovecot.host()), client.into_inner())
        .await
        .expect("TLS handshake after STARTTLS");
    Client::new(tls)
}

/// Logs in, selects INBOX and returns (EXISTS, UIDVALIDITY, CAPABILITY has MOVE, has IDLE).
async fn login_and_select(
    client: Client<TlsStream<TcpStream>>,
    dovecot: &Dovecot,
) -> (u32, Option<u32>, bool, bool) {
    let mut session = client
        .login(dovecot.user(), dovecot.password())
        .await
        .map_err(|(error, _)| error)
        .expect("LOGIN");
    let capabilities = session.capabilities().await.expect("CAPABILITY");
    let mailbox = session.select("INBOX").await.expect("SELECT INBOX");
    session.logout().await.expect("LOGOUT");
    (
        mailbox.exists,
        mailbox.uid_validity,
        capabilities.has_str("MOVE"),
        capabilities.has_str("IDLE"),
    )
}

#[tokio::test]
async fn dovecot_accepts_async_imap_over_rustls() {
    let dovecot = Dovecot::start();
    dovecot.append("INBOX", &raw_message("over-tls"));
    let uidvalidity = dovecot.uidvalidity("INBOX");

    for name in ["127.0.0.1", "localhost"] {
        let client = imaps_client(&dovecot, name).await;
        let (exists, validity, has_move, has_idle) = login_and_select(client, &dovecot).await;
        assert_eq!(
            (exists, validity),
            (1, Some(uidvalidity)),
            "IMAPS as {name}"
        );
        assert!(
            has_move && has_idle,
            "default capabilities include MOVE and IDLE"
        );
    }

    let client = starttls_client(&dovecot).await;
    let (exists, validity, _, _) = login_and_select(client, &dovecot).await;
    assert_eq!((exists, validity), (1, Some(uidvalidity)), "STARTTLS");
}

#[tokio::test]
async fn dovecot_can_hide_move_and_idle() {
    let options = DovecotOptions {
        move_capability: false,
        idle: false,
        ..DovecotOptions::default()
    };
    let dovecot = Dovecot::start_with(options);
    let client = imaps_client(&dovecot, "127.0.0.1").await;
    let (_, _, has_move, has_idle) = login_and_select(client, &dovecot).await;
    assert!(!has_move, "MOVE must not be advertised");
    assert!(!has_idle, "IDLE must not be advertised");
}

/// Credentials used by the SMTP tests.
fn smtp_credentials() -> (String, String) {
    ("mailer".to_owned(), "smtp-secret".to_owned())
}

/// A lettre transport to `server` trusting its CA; `wrap` picks the TLS mode.
fn smtp_transport(
    server: &SmtpServer,
    wrap: fn(TlsParameters) -> Tls,
    credentials: Option<(String, String)>,
) -> AsyncSmtpTransport<Tokio1Executor> {
    let pem = std::fs::read(server.ca_pem_path()).expect("read CA PEM");
    let parameters = TlsParameters::builder(server.host().to_owned())
        .add_root_certificate(Certificate::from_pem(&pem).expect("parse CA PEM"))
        .build_rustls()
        .expect("rustls parameters");
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
        .port(server.port())
        .tls(wrap(parameters))
        .timeout(Some(Duration::from_secs(10)));
    if let Some((user, password)) = credentials {
        builder = builder.credentials(Credentials::new(user, password));
    }
    builder.build()
}

fn email(to: &str, subject: &str) -> Message {
    let from: Mailbox = "Senim <senim@example.test>".parse().expect("from address");
    Message::builder()
        .from(from)
        .to(to.parse().expect("to address"))
        .subject(subject)
        .body(String::from("Sent by the harness self-test.\r\n"))
        .expect("build message")
}

#[tokio::test]
async fn smtp_starttls_with_auth_spools_the_message() {
    let server = SmtpServer::start(SmtpOptions {
        mode: SmtpMode::StartTlsRequired,
        auth: Some(smtp_credentials()),
        ..SmtpOptions::default()
    });

    let anonymous = smtp_transport(&server, Tls::Required, None);
    let refused = anonymous.send(email("bob@example.test", "anonymous")).await;
    assert!(refused.expect_err("AUTH is required").is_permanent());

    let transport = smtp_transport(&server, Tls::Required, Some(smtp_credentials()));
    transport
        .send(email("bob@example.test", "hello"))
        .await
        .expect("send");

    let messages = server.wait_for_messages(1, DELIVERY_TIMEOUT);
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.mail_from, "senim@example.test");
    assert_eq!(mail.rcpt_to, vec!["bob@example.test"]);
    assert_eq!(mail.auth_user.as_deref(), Some("mailer"));
    assert!(
        mail.data_str().contains("Subject: hello\r\n"),
        "{}",
        mail.data_str()
    );
}

#[tokio::test]
async fn smtp_rejects_recipients_permanently_or_temporarily() {
    let server = SmtpServer::start(SmtpOptions {
        reject_permanent: vec!["gone@example.test".to_owned()],
        reject_temporary: vec!["busy@example.test".to_owned()],
        ..SmtpOptions::default()
    });
    let transport = smtp_transport(&server, |_| Tls::None, None);

    let permanent = transport.send(email("gone@example.test", "p")).await;
    let permanent = permanent.expect_err("550 recipient");
    assert!(permanent.is_permanent(), "{permanent:?}");

    let transient = transport.send(email("busy@example.test", "t")).await;
    let transient = transient.expect_err("451 recipient");
    assert!(transient.is_transient(), "{transient:?}");

    transport
        .send(email("ok@example.test", "fine"))
        .await
        .expect("send");
    let messages = server.wait_for_messages(1, DELIVERY_TIMEOUT);
    assert_eq!(messages.len(), 1, "rejected messages must not be spooled");
    assert_eq!(messages[0].rcpt_to, vec!["ok@example.test"]);
}

#[tokio::test]
async fn smtp_stop_and_start_again_keep_port_and_spool() {
    let mut server = SmtpServer::start(SmtpOptions {
        mode: SmtpMode::ImplicitTls,
        auth: Some(smtp_credentials()),
        ..SmtpOptions::default()
    });
    let transport = smtp_transport(&server, Tls::Wrapper, Some(smtp_credentials()));
    transport
        .send(email("bob@example.test", "before"))
        .await
        .expect("send");

    let port = server.port();
    server.stop();
    assert!(refuses_connections(server.host(), port));
    let down = transport
        .send(email("bob@example.test", "while-down"))
        .await;
    assert!(down.is_err(), "sending to a stopped server must fail");

    server.start_again();
    assert_eq!(server.port(), port);
    transport
        .send(email("bob@example.test", "after"))
        .await
        .expect("send");

    let messages = server.wait_for_messages(2, DELIVERY_TIMEOUT);
    let subjects: Vec<bool> = ["before", "after"]
        .iter()
        .zip(&messages)
        .map(|(subject, mail)| mail.data_str().contains(&format!("Subject: {subject}\r\n")))
        .collect();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        subjects,
        vec![true, true],
        "arrival order kept across restarts"
    );
}
