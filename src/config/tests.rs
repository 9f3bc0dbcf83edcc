//! The configuration loaded from TOML: defaults, values named in errors, the
//! environment's variables.

use super::*;
use std::io::Write;
use std::net::SocketAddr;

fn load_str(toml: &str) -> Result<Config, ConfigError> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(toml.as_bytes()).unwrap();
    let source = ConfigSource {
        path: file.path().to_owned(),
        required: true,
    };
    Config::load_with_env(&source, Env::prefixed("SENIM_TEST_NONE_").split("__"))
}

#[test]
fn only_section_key_variables_are_configuration() {
    let names = [
        "SENIM_CONFIG",
        "SENIM_BIN",
        "SENIM_SERVER__LISTEN",
        "senim_database__url",
        "SENIM_NOSUCH__KEY",
        "SENIM_SERVER_LISTEN",
        "SENIMTEST_PYTHON",
        "PATH",
    ];
    let ignored = ignored_among(names.iter().map(|n| n.to_string()));
    assert_eq!(
        ignored,
        ["SENIM_BIN", "SENIM_NOSUCH__KEY", "SENIM_SERVER_LISTEN"]
    );
}

#[test]
fn no_file_gives_working_defaults() {
    let source = ConfigSource {
        path: PathBuf::from("/nonexistent/senim.toml"),
        required: false,
    };
    let config = Config::load_with_env(&source, Env::prefixed("SENIM_TEST_NONE_")).unwrap();
    assert_eq!(config.database.effective_url(), "sqlite://data/senim.db");
    assert_eq!(*config.calendar.timezone, chrono_tz::Asia::Almaty);
    assert_eq!(config.calendar.opens.to_string(), "09:00");
    assert_eq!(config.receipt_from().to_string(), "senim@localhost");
}

#[test]
fn values_are_parsed_once_and_fallbacks_resolved_at_load() {
    let config = load_str(
        "[calendar]\ntimezone = \"Asia/Aqtobe\"\nopens = \"08:30\"\n\n\
         [smtp]\nfrom = \"Senim <trust@example.kz>\"\n\n\
         [alerts]\ndefault_unit = \"\"\ndirector = [\"director@example.kz\"]\n\n\
         [mailbox.ack]\nfrom = \"\"\nlanguages = [\"ru\", \"en\"]\n",
    )
    .unwrap();
    assert_eq!(*config.calendar.timezone, chrono_tz::Asia::Aqtobe);
    assert_eq!(config.calendar.opens, TimeOfDay::hm(8, 30));
    assert!(
        config.alerts.default_unit.is_none(),
        "an empty address is none"
    );
    assert_eq!(config.alerts.director[0].email.domain(), "example.kz");
    assert_eq!(
        config.mailbox.ack.languages,
        [mailbox::Language::Ru, mailbox::Language::En]
    );
    // The receipt's From: is smtp.from's, display name and domain alike.
    assert_eq!(config.receipt_from(), &config.smtp.from);
}

#[test]
fn retention_periods_are_days_never_zero_and_media_never_outlive_the_appeal() {
    use crate::journal::Category;
    let defaults = RetentionConfig::default();
    assert_eq!(defaults.appeal_days(Category::Corruption), Days::new(1826));
    assert_eq!(
        defaults.raw_mail_days(Category::NotCorruption),
        Days::new(1096)
    );
    let config = load_str(
        "[retention]\nnot_corruption_days = 30\nraw_mail_days = 60\nrecordings_days = 7\n",
    )
    .unwrap();
    let r = &config.retention;
    assert_eq!(r.appeal_days(Category::NotCorruption), Days::new(30));
    // Raw mail kept 60 days, but the appeal only 30: it goes with the appeal.
    assert_eq!(r.raw_mail_days(Category::NotCorruption), Days::new(30));
    assert_eq!(r.raw_mail_days(Category::Corruption), Days::new(60));
    assert_eq!(r.recordings_days(Category::CriminalOffence), Days::new(7));
    for key in ["unclassified_days", "missed_call_days", "recordings_days"] {
        let err = load_str(&format!("[retention]\n{key} = 0\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("retention.{key}")), "{err}");
        assert!(err.contains("at least 1"), "{err}");
    }
}

#[test]
fn unknown_key_is_named() {
    let err = load_str("[server]\nlisten = \"127.0.0.1:9\"\nlistne = 1\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("listne"), "{err}");
}

#[test]
fn wrong_type_is_named_with_its_key() {
    let err = load_str("[database]\nmax_connections = \"many\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("database.max_connections"), "{err}");
}

#[test]
fn plain_http_only_on_loopback() {
    for listen in ["127.0.0.1:8080", "127.0.0.2:8080", "[::1]:8080"] {
        let config = load_str(&format!("[server]\nlisten = \"{listen}\"\n"));
        assert!(config.is_ok(), "{listen}: {:?}", config.err());
    }
    let err = load_str("[server]\nlisten = \"192.0.2.7:8080\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.listen"), "{err}");
    assert!(err.contains("[server.tls]"), "{err}");
    assert!(err.contains("loopback"), "{err}");
    // With [server.tls] any address will do: what is wrong is then the files.
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "not a certificate\n").unwrap();
    let err = load_str(&format!(
        "[server]\nlisten = \"0.0.0.0:8443\"\n\n[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        cert.display(),
        cert.display()
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("server.tls.cert_file"), "{err}");
    assert!(!err.contains("server.listen"), "{err}");
}

#[test]
fn the_metrics_listener_is_on_loopback_unless_it_has_a_token() {
    let config = load_str("").unwrap();
    assert_eq!(
        config.server.metrics_listen,
        Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
    );
    assert!(config.server.metrics_token().unwrap().is_none());
    let off = load_str("[server]\nmetrics_listen = \"\"\n").unwrap();
    assert_eq!(off.server.metrics_listen, None, "empty turns it off");
    for open in ["0.0.0.0:9464", "[::]:9464", "192.0.2.7:9464"] {
        let err = load_str(&format!("[server]\nmetrics_listen = \"{open}\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.metrics_listen"), "{open}: {err}");
        assert!(err.contains("metrics_token"), "{open}: {err}");
    }
    let open = load_str(
        "[server]\nmetrics_listen = \"0.0.0.0:9464\"\nmetrics_token = \"0123456789abcdef\"\n",
    )
    .unwrap();
    assert_eq!(
        open.server.metrics_token().unwrap().as_deref(),
        Some("0123456789abcdef")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics.token");
    std::fs::write(&file, "0123456789abcdef-from-a-file\n").unwrap();
    let open = load_str(&format!(
        "[server]\nmetrics_listen = \"0.0.0.0:9464\"\nmetrics_token_file = \"{}\"\n",
        file.display()
    ))
    .unwrap();
    assert_eq!(
        open.server.metrics_token().unwrap().as_deref(),
        Some("0123456789abcdef-from-a-file")
    );
    // A token too short is named by its key, never shown.
    let err = load_str("[server]\nmetrics_token = \"s3cr3t\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.metrics_token"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
}

#[test]
fn bad_values_are_named() {
    for (toml, key) in [
        (
            "[calendar]\ntimezone = \"Mars/Olympus\"\n",
            "calendar.timezone",
        ),
        ("[calendar]\nopens = \"9 am\"\n", "calendar.opens"),
        (
            "[calendar]\nopens = \"18:00\"\ncloses = \"09:00\"\n",
            "calendar.closes",
        ),
        (
            "[journal]\nregistration_prefix = \"T L\"\n",
            "journal.registration_prefix",
        ),
        ("[database]\nurl = \"mysql://x\"\n", "database.url"),
        (
            "[database]\nurl = \"postgres://senim@db.example.kz/senim\"\n",
            "database.url",
        ),
        (
            "[database]\nurl = \"postgres://senim@db.example.kz/senim?sslmode=require\"\n",
            "database.url",
        ),
        (
            "[database]\nurl = \"postgres://senim@10.0.0.5:5432/senim?sslmode=verify-ca\"\n",
            "database.url",
        ),
        (
            "[database]\nca_file = \"/nonexistent/db-ca.pem\"\n",
            "database.ca_file",
        ),
        ("[server]\nlisten = \"nowhere\"\n", "server.listen"),
        ("[server]\nlisten = \"0.0.0.0:8443\"\n", "server.listen"),
        ("[server]\nlisten = \"[::]:8443\"\n", "server.listen"),
        (
            "[server]\nmetrics_listen = \"nowhere\"\n",
            "server.metrics_listen",
        ),
        (
            "[server]\nmetrics_listen = \"0.0.0.0:9464\"\n",
            "server.metrics_listen",
        ),
        (
            "[server]\nlisten = \"127.0.0.1:9464\"\n",
            "server.metrics_listen",
        ),
        (
            "[server]\nmetrics_token = \"0123456789abcdef\"\nmetrics_token_file = \"/t\"\n",
            "metrics_token_file",
        ),
        (
            "[server.tls]\ncert_file = \"/nonexistent/cert.pem\"\nkey_file = \"/nonexistent/key.pem\"\n",
            "server.tls.cert_file",
        ),
        (
            "[server.tls]\ncert_file = \"/nonexistent/cert.pem\"\n",
            "server.tls",
        ),
        (
            "[smtp]\nhost = \"mail.example.kz\"\nsecurity = \"none\"\n",
            "smtp.security",
        ),
        (
            "[alerts]\ndirector = [\"not an address\"]\n",
            "alerts.director[0]",
        ),
        (
            "[alerts]\ndigest_cutoff = \"ten\"\n",
            "alerts.digest_cutoff",
        ),
        (
            "[[alerts.routes]]\nunit = \"HR\"\naddress = \"hr@example.kz\"\ncategories = [\"gossip\"]\n",
            "alerts.routes[0].categories",
        ),
        (
            "[[pbx.sources]]\nname = \"a b\"\ntoken = \"0123456789abcdef\"\n",
            "pbx.sources[0].name",
        ),
        ("[[pbx.sources]]\nname = \"a\"\n", "pbx.sources[0]"),
        (
            "[[pbx.sources]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\nallowed_networks = [\"10.0.0/8\"]\n",
            "pbx.sources[0].allowed_networks[0]",
        ),
        ("[pbx]\nmax_record_bytes = 10\n", "pbx.max_record_bytes"),
        (
            "[pbx]\nclock_skew_seconds = 90000\n",
            "pbx.clock_skew_seconds",
        ),
        (
            "[pbx]\nlate_tolerance_seconds = 0\n",
            "pbx.late_tolerance_seconds",
        ),
        (
            "[pbx]\nunanswered_hangup_hours = 0\n",
            "pbx.unanswered_hangup_hours",
        ),
        (
            "[server]\nheader_read_timeout_seconds = 0\n",
            "server.header_read_timeout_seconds",
        ),
        (
            "[server]\nmax_concurrent_requests = 0\n",
            "server.max_concurrent_requests",
        ),
        (
            "[server]\nmax_connections = 10\nmax_connections_per_peer = 11\n",
            "server.max_connections_per_peer",
        ),
        (
            "[mailbox.ack]\nlanguages = [\"de\"]\n",
            "mailbox.ack.languages",
        ),
        ("[mailbox.ack]\nfrom = \"trust line\"\n", "mailbox.ack.from"),
        ("[smtp]\nfrom = \"\"\n", "smtp.from"),
        (
            "[[pbx.sources]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\ntimezone = \"Asia/Nowhere\"\n",
            "pbx.sources[0].timezone",
        ),
    ] {
        let err = load_str(toml).unwrap_err().to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
}

/// The `[database]` table with `url` set to `url`.
fn database_url(url: &str) -> String {
    format!("[database]\nurl = \"{url}\"\n")
}

#[test]
fn postgres_off_loopback_needs_verify_full_and_the_password_is_not_shown() {
    for url in [
        "postgres://senim:s3cret-pw@db.example.kz/senim",
        "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=disable",
        "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=prefer",
        "postgresql://senim:s3cret-pw@db.example.kz:6432/senim?sslmode=require",
        "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=verify-ca",
        // The last sslmode is the one sqlx applies.
        "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=verify-full&sslmode=require",
        "postgres://senim:s3cret-pw@[2001:db8::5]/senim",
        "postgres://senim:s3cret-pw@127.0.0.1.example.kz/senim",
        // The `host` and `hostaddr` parameters win over the URL's host.
        "postgres://senim:s3cret-pw@localhost/senim?host=db.example.kz",
        "postgres://senim:s3cret-pw@localhost/senim?hostaddr=192.0.2.7",
    ] {
        let err = load_str(&database_url(url)).unwrap_err().to_string();
        assert!(err.contains("database.url"), "{url}: {err}");
        assert!(err.contains("sslmode=verify-full"), "{url}: {err}");
        assert!(
            !err.contains("s3cret-pw"),
            "{url}: the password shown: {err}"
        );
    }
    let err = load_str(&database_url("mysql://senim:s3cret-pw@db.example.kz/senim"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("database.url") && !err.contains("s3cret-pw"),
        "{err}"
    );
}

#[test]
fn postgres_on_loopback_takes_any_sslmode_and_off_it_verify_full() {
    for url in [
        "postgres://senim:pw@localhost/senim",
        "postgres://senim:pw@LocalHost:5433/senim?sslmode=disable",
        "postgres://senim@127.0.0.1/senim?sslmode=prefer",
        "postgres://senim@127.8.9.10:5432/senim?sslmode=require",
        "postgres://senim@[::1]:5432/senim?sslmode=verify-ca",
        "postgres://senim@%2Fvar%2Frun%2Fpostgresql/senim",
        "postgres:///senim?host=/var/run/postgresql",
        "postgres://senim:pw@db.example.kz/senim?sslmode=verify-full",
        "postgres://senim:pw@db.example.kz/senim?ssl-mode=VERIFY-FULL",
        "postgresql://senim@192.0.2.7:6432/senim?sslmode=verify-full",
        "postgres://senim@localhost/senim?host=db.example.kz&sslmode=verify-full",
    ] {
        if let Err(e) = load_str(&database_url(url)) {
            panic!("{url} refused: {e}");
        }
    }
}

#[test]
fn database_ca_file_must_hold_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.txt");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let err = load_str(&format!(
        "[database]\nca_file = \"{}\"\n",
        not_pem.display()
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("database.ca_file"), "{err}");
}
