//! The configuration loaded from TOML: defaults, values named in errors, the
//! environment's variables.

use super::*;
use std::io::Write;

pub(super) fn load_str(toml: &str) -> Result<Config, ConfigError> {
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
