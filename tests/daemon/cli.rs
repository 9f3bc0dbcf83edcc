//! The `senim` binary end to end: start-up on defaults, health endpoints, systemd
//! readiness, graceful shutdown, configuration errors, the calendar and journal
//! commands, and the systemd unit.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use chrono::{NaiveTime, TimeZone};
use senim::calendar::{Calendar, CalendarData, WorkingHours};
use senim::clock::SystemClock;
use senim::journal::{Channel, Journal, NewAppeal, Reporter, SourceRef};
use support::scene::new_appeal;
use support::senim::{Daemon, run_cli, write_config};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serve_with_no_config_file_starts_on_sqlite_in_data() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let mut child = support::senim::command()
        .arg("serve")
        .current_dir(dir.path())
        .env("SENIM_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        // Not the default 9464, which another test's daemon may hold.
        .env(
            "SENIM_SERVER__METRICS_LISTEN",
            format!("127.0.0.1:{}", support::ports::free_port()),
        )
        .env_remove("SENIM_CONFIG")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let healthy = support::process::poll_until(std::time::Duration::from_secs(30), || {
        (support::senim::http_get_status(&addr, "/healthz") == Some(200)).then_some(())
    })
    .is_some();
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert!(healthy, "no /healthz answer");
    assert!(status.success(), "SIGTERM must end senim cleanly: {status}");
    assert!(
        dir.path().join("data/senim.db").exists(),
        "SQLite database in ./data/"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics_answer_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(dir.path(), "", "");
    let health = reqwest::get(daemon.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");

    let ready = reqwest::get(daemon.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ready"}));
    // The details, and the metrics, on the metrics listener.
    let ready = reqwest::get(daemon.metrics_url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"]["backend"], "sqlite");
    assert_eq!(body["calendar"]["ok"], true);

    let metrics = reqwest::get(daemon.metrics_url("/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(metrics.text().await.unwrap().contains("senim_build_info"));

    let logs_path = daemon.log.clone();
    let status = daemon.terminate();
    assert!(status.success(), "exit after SIGTERM: {status}");
    let logs = std::fs::read_to_string(logs_path).unwrap();
    for line in logs.lines() {
        let json: Result<serde_json::Value, _> = serde_json::from_str(line);
        assert!(
            json.is_ok(),
            "log lines are JSON when not on a terminal: {line}"
        );
    }
    assert!(logs.contains("shutting down"));
}

/// Missing calendar data is a warning, never unreadiness (issue 19): a PBX or
/// balancer checking `/readyz` must not close the line over a holiday's date.
#[tokio::test]
async fn readyz_stays_ready_and_warns_when_this_years_calendar_data_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let calendar = dir.path().join("calendar.toml");
    std::fs::write(&calendar, "[kurban_ait]\n2020 = 2020-07-31\n").unwrap();
    let extra = format!("[calendar]\nfile = \"{}\"\n", calendar.display());
    let daemon = Daemon::start(dir.path(), "", &extra);
    let ready = reqwest::get(daemon.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ready"}));
    let ready = reqwest::get(daemon.metrics_url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["calendar"]["ok"], false);
    assert!(
        body["calendar"]["warning"]
            .as_str()
            .unwrap()
            .contains("Kurban Ait")
    );
    assert!(daemon.logs().contains("CALENDAR DATA MISSING"));
}

#[test]
fn systemd_is_told_when_the_daemon_is_ready() {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, "", "");
    let mut child = support::senim::command()
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("NOTIFY_SOCKET", &socket_path)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    let received = socket
        .recv(&mut buf)
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned());
    // READY is sent once the port is bound: it must answer now, without waiting.
    let answering = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    assert_eq!(received.unwrap().trim_end(), "READY=1");
    assert!(
        answering,
        "the port must accept connections when READY=1 is sent"
    );
}

#[test]
fn a_bad_configuration_stops_start_up_naming_the_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[calendar]\nopens = \"nine\"\n",
    )
    .unwrap();
    for command in ["check-config", "serve"] {
        let output = run_cli(&config, &[command]);
        assert_eq!(output.status.code(), Some(2), "{command}");
        let err = stderr(&output);
        assert!(
            err.contains("calendar.opens") && err.contains("bad.toml"),
            "{command}: {err}"
        );
    }
    std::fs::write(&config, "[journal]\nregistration_prefx = \"TL\"\n").unwrap();
    let err = stderr(&run_cli(&config, &["check-config"]));
    assert!(
        err.contains("journal.registration_prefx") && err.contains("bad.toml"),
        "{err}"
    );

    let missing = run_cli(&dir.path().join("nope.toml"), &["check-config"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nope.toml"));

    std::fs::write(&config, "").unwrap();
    let env = support::senim::command()
        .args(["--config", config.to_str().unwrap(), "check-config"])
        .env("SENIM_DATABASE__MAX_CONNECTIONS", "lots")
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(2));
    assert!(
        stderr(&env).contains("SENIM_DATABASE__MAX_CONNECTIONS"),
        "{}",
        stderr(&env)
    );
    let ok = run_cli(&config, &["check-config"]);
    assert!(ok.status.success() && stdout(&ok).contains("configuration is valid"));
}

/// `SENIM_CONFIG` names the file, as `--help` says; other `SENIM_…` variables that
/// are not `SENIM_<SECTION>__<KEY>` (a wrapper script's `SENIM_BIN`) are ignored
/// with a warning, for the command line and for the daemon.
#[test]
fn senim_config_names_the_file_and_other_senim_variables_only_warn() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), support::ports::free_port(), "", "");
    let output = support::senim::command()
        .arg("check-config")
        .env("SENIM_CONFIG", &config)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(config.to_str().unwrap()),
        "the file named by SENIM_CONFIG was checked: {}",
        stdout(&output)
    );
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));

    let output = support::senim::command()
        .args(["--config", config.to_str().unwrap(), "check-config"])
        .env("SENIM_BIN", "/usr/local/bin/senim")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("warning") && err.contains("SENIM_BIN") && err.contains("ignored"),
        "{err}"
    );

    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, "", "");
    let daemon = Daemon::start_with_env(
        dir.path(),
        config,
        port,
        &[("SENIM_BIN", "/usr/local/bin/senim")],
    );
    let logs = daemon.logs();
    assert!(
        logs.contains("SENIM_BIN") && logs.contains("ignored"),
        "{logs}"
    );
    assert!(daemon.terminate().success());
}

#[test]
fn a_damaged_instance_id_stops_start_up_naming_it_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, "", "");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("instance-id"), "not a uuid\n").unwrap();
    let output = run_cli(&config, &["serve"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("database.data_dir") && err.contains("instance-id"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("instance-id")).unwrap(),
        "not a uuid\n",
        "an administrator's file is never overwritten"
    );
}

#[test]
fn calendar_prints_the_years_days_off_and_the_state_at_an_instant() {
    let output = support::senim::command()
        .args(["calendar", "2026"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for line in [
        "2026-03-24  Tue  day off: Nauryz (21 Mar) fell on Saturday",
        "2026-05-27  Wed  public holiday: Kurban Ait",
        "2026-01-07  Wed  public holiday: Orthodox Christmas",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(
        !text.contains("2026-08-31"),
        "no Constitution Day day off in 2026"
    );

    let at = |instant: &str| {
        let o = support::senim::command()
            .args(["calendar", "--at", instant])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let before_close = at("2026-03-20T17:59:00+05:00");
    assert!(
        before_close.contains("OPEN, closes 2026-03-20 18:00"),
        "{before_close}"
    );
    assert!(
        before_close.contains("registration date: 2026-03-20"),
        "{before_close}"
    );
    let after_close = at("2026-03-20T18:00:00+05:00");
    assert!(after_close.contains("CLOSED"), "{after_close}");
    assert!(
        after_close.contains("next opening:      2026-03-26 09:00"),
        "{after_close}"
    );
    assert!(
        after_close.contains("registration date: 2026-03-26"),
        "{after_close}"
    );
}

/// Kurban Ait 2027 is counted with the estimate 16 May (issue 19), and every
/// way of showing the calendar says it is estimated, the warning kept.
#[test]
fn calendar_marks_kurban_ait_2027_as_estimated() {
    let output = support::senim::command()
        .args(["calendar", "2027"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("Kurban Ait (first day) 2027: 2027-05-16 Sun, ESTIMATED"),
        "{text}"
    );
    assert!(
        text.contains("WARNING: no Kurban Ait date for 2027 in the calendar data"),
        "{text}"
    );
    let output = support::senim::command()
        .args(["calendar", "--at", "2027-05-16T10:00:00+05:00"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("public holiday: Kurban Ait (first day), ESTIMATED date"),
        "{text}"
    );
    // 2026's date is configured: no estimate, no warning.
    let output = support::senim::command()
        .args(["calendar", "2026"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(!text.contains("ESTIMATED"), "{text}");
    assert!(!text.contains("WARNING"), "{text}");
}

/// Registers three appeals straight into the daemon's SQLite database.
async fn seed(dir: &Path) -> std::path::PathBuf {
    let config = write_config(dir, support::ports::free_port(), "", "");
    let db =
        support::database::connect(&format!("sqlite://{}", dir.join("data/senim.db").display()))
            .await;
    let hours = WorkingHours {
        tz: chrono_tz::Asia::Almaty,
        opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
    };
    let journal = Journal::new(
        db.clone(),
        Arc::new(Calendar::new(hours, CalendarData::embedded())),
        Arc::new(SystemClock),
        "TL",
    );
    for (i, channel) in [Channel::Phone, Channel::Email, Channel::Phone]
        .into_iter()
        .enumerate()
    {
        let received_at = chrono_tz::Asia::Almaty
            .with_ymd_and_hms(2026, 11, 16 + i as u32, 10, 0, 0)
            .unwrap()
            .to_utc();
        journal
            .register(NewAppeal {
                channel,
                reporter: Reporter {
                    name: Some("Тайный Заявитель".into()),
                    // A caller ID that a spreadsheet would run as a formula.
                    phone: (i == 0).then(|| "=cmd|'/C calc'!A0".into()),
                    ..Reporter::default()
                },
                subject: Some("Взятка".into()),
                substance: Some("Текст обращения".into()),
                ..new_appeal(SourceRef::new("seed", i.to_string()), received_at)
            })
            .await
            .unwrap();
    }
    db.close().await;
    config
}

#[tokio::test]
async fn journal_commands_list_show_export_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let config = seed(dir.path()).await;

    let list = run_cli(&config, &["journal", "list", "--channel", "phone"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let text = stdout(&list);
    assert!(
        text.contains("TL-2026-000001") && text.contains("TL-2026-000003"),
        "{text}"
    );
    assert!(
        !text.contains("TL-2026-000002"),
        "filtered by channel: {text}"
    );
    assert!(
        !text.contains("Тайный"),
        "the list shows no identity: {text}"
    );
    let dated = stdout(&run_cli(
        &config,
        &[
            "journal",
            "list",
            "--from",
            "2026-11-17",
            "--to",
            "2026-11-17",
        ],
    ));
    assert!(
        dated.contains("TL-2026-000002") && dated.contains("1 appeal(s)"),
        "{dated}"
    );
    let bad = run_cli(&config, &["journal", "list", "--channel", "fax"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("fax"));

    let show = run_cli(&config, &["journal", "show", "TL-2026-000002"]);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(
        stdout(&show).contains("\"channel\": \"email\"") && stdout(&show).contains("registered")
    );
    let missing = run_cli(&config, &["journal", "show", "TL-2026-000099"]);
    assert_eq!(missing.status.code(), Some(2));

    // Without asking, neither `show` nor an export discloses the identity or the text.
    assert!(
        !stdout(&show).contains("Тайный") && !stdout(&show).contains("Взятка"),
        "{}",
        stdout(&show)
    );
    let nobody = run_cli(&config, &["journal", "export"]);
    assert_eq!(nobody.status.code(), Some(2), "an export is by a person");
    let auditor = support::senim::person(&config, "audit", &["auditor"]);
    for args in [
        &["journal", "export", "--format", "csv"][..],
        &["journal", "export", "--format", "csv", "--without-identity"][..],
    ] {
        let public = stdout(&support::senim::run_cli_as(&config, &auditor, args));
        assert!(
            public.starts_with("registration_number,registration_date,"),
            "{public}"
        );
        assert_eq!(public.lines().count(), 4);
        assert!(
            !public.contains("Тайный") && !public.contains("Взятка"),
            "{public}"
        );
    }
    let verify = run_cli(&config, &["journal", "verify"]);
    assert!(
        stdout(&verify).contains("3 appeal(s), 9 event(s)"),
        "each export is an event of each appeal, nothing disclosed yet: {}",
        stdout(&verify)
    );
    let history = stdout(&run_cli(&config, &["journal", "show", "TL-2026-000001"]));
    assert!(
        history.contains(r#"exported"#)
            && history.contains(r#"{"identity":false}"#)
            && history.contains("by person:audit"),
        "{history}"
    );

    // Asked for, the export has them, in a file only its owner can read, with the
    // formula neutralised; each disclosure is an event of the audit chain.
    let file = dir.path().join("export.csv");
    let nobody = run_cli(&config, &["journal", "export", "--with-identity"]);
    assert_eq!(
        nobody.status.code(),
        Some(2),
        "only a person asks for identities"
    );
    let refused =
        support::senim::run_cli_as(&config, &auditor, &["journal", "export", "--with-identity"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "an auditor sees no identity"
    );
    assert!(
        stderr(&refused).contains("manager or director"),
        "{}",
        stderr(&refused)
    );
    let director = support::senim::person(&config, "director", &["director"]);
    let export = support::senim::run_cli_as(
        &config,
        &director,
        &[
            "journal",
            "export",
            "--with-identity",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(export.status.success(), "{}", stderr(&export));
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(
        csv.contains("Тайный Заявитель") && csv.contains("Взятка"),
        "{csv}"
    );
    assert!(csv.contains("'=cmd|'/C calc'!A0"), "{csv}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let history = stdout(&run_cli(&config, &["journal", "show", "TL-2026-000001"]));
    assert!(
        history.contains("identity_disclosed")
            && history.contains(r#"{"purpose":"export"}"#)
            && history.contains("by person:director"),
        "{history}"
    );

    let verify = run_cli(&config, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    assert!(
        stdout(&verify).contains("3 appeal(s), 12 event(s)"),
        "{}",
        stdout(&verify)
    );

    // Someone edits the database behind the Journal's back.
    let db = support::database::connect(&format!(
        "sqlite://{}",
        dir.path().join("data/senim.db").display()
    ))
    .await;
    senim::on_db!(&db, pool => sqlx::query("UPDATE appeals SET substance = 'changed' WHERE id = 2").execute(pool).await.map(|_| ()))
        .unwrap();
    db.close().await;
    let tampered = run_cli(&config, &["journal", "verify"]);
    assert_eq!(tampered.status.code(), Some(1));
    let said = stdout(&tampered);
    assert!(said.contains("TAMPERED: appeal TL-2026-000002"), "{said}");
}

/// Every file the CLI writes where a person said (`-o`, `--output`) is a new
/// file: an existing one is not truncated, a symbolic link is not followed to
/// the file it names; the command fails naming the path and writes nothing.
#[tokio::test]
async fn output_files_are_never_written_over_nor_through_a_symbolic_link() {
    let dir = tempfile::tempdir().unwrap();
    let config = seed(dir.path()).await;
    let director = support::senim::person(&config, "director", &["director"]);
    let existing = dir.path().join("existing.csv");
    std::fs::write(&existing, "someone's spreadsheet").unwrap();
    let elsewhere = dir.path().join("elsewhere.txt");
    std::fs::write(&elsewhere, "a file the link points to").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    for path in [&existing, &link] {
        let path_text = path.to_str().unwrap();
        for args in [
            &["journal", "export", "--with-identity", "-o", path_text][..],
            &["journal", "export", "--format", "csv", "-o", path_text][..],
            &[
                "report",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "-o",
                path_text,
            ][..],
            &[
                "report",
                "publish",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "-o",
                path_text,
            ][..],
        ] {
            let out = support::senim::run_cli_as(&config, &director, args);
            assert!(!out.status.success(), "{args:?}: {}", stdout(&out));
            assert!(
                stderr(&out).contains(path_text) && stderr(&out).contains("exists"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "someone's spreadsheet"
    );
    assert_eq!(
        std::fs::read_to_string(&elsewhere).unwrap(),
        "a file the link points to"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let analyze = Command::new("systemd-analyze").arg("--version").output();
    assert!(
        analyze.is_ok_and(|o| o.status.success()),
        "systemd-analyze is missing: scripts/install-test-deps.sh installs the systemd package"
    );
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/senim.service"),
    )
    .unwrap();
    // verify checks that ExecStart's binary exists: point it at the one just built.
    let unit = unit.replace("/usr/local/bin/senim", support::senim::binary());
    let path = dir.path().join("senim.service");
    std::fs::write(&path, &unit).unwrap();
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).trim().is_empty(),
        "warnings: {}",
        stderr(&output)
    );
    // Bounded: memory, threads and open files.
    for limit in ["MemoryMax=", "TasksMax=", "LimitNOFILE="] {
        assert!(unit.lines().any(|l| l.starts_with(limit)), "no {limit}");
    }
}

/// Outside systemd too, what the daemon stores is its own user's alone: the data
/// directory 0700 (an open one is tightened), the database and its WAL 0600.
#[test]
fn the_data_directory_and_the_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = write_config(dir.path(), 1, "", "");
    let out = run_cli(&config, &["migrate"]);
    crate::support::senim::assert_succeeded(&out);
    assert_eq!(mode(&data), 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    assert!(files >= 1, "the database is there");
}

/// Under systemd, secrets come as credentials (`LoadCredential=`): a relative
/// secret-file path is read from `$CREDENTIALS_DIRECTORY`, and a missing one is
/// named with its key.
#[test]
fn secret_files_are_read_from_systemds_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("chain.key"), "k".repeat(64)).unwrap();
    std::fs::write(
        credentials.join("manager.token"),
        "manager-token-0123456789\n",
    )
    .unwrap();
    let config = write_config(
        dir.path(),
        1,
        "",
        "[journal]\nchain_key_file = \"chain.key\"\n\n\
         [[api.managers]]\nname = \"aigul\"\ntoken_file = \"manager.token\"\n",
    );
    let run = |credentials: Option<&Path>| {
        let mut command = support::senim::command();
        command.args(["--config", config.to_str().unwrap(), "check-config"]);
        command.env_remove("CREDENTIALS_DIRECTORY");
        if let Some(dir) = credentials {
            command.env("CREDENTIALS_DIRECTORY", dir);
        }
        command.output().unwrap()
    };
    let ok = run(Some(&credentials));
    crate::support::senim::assert_succeeded(&ok);
    let missing = run(None);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("journal.chain_key_file") && stderr.contains("CREDENTIALS_DIRECTORY"),
        "{stderr}"
    );
}

/// Bad input on the new command-line paths gets a clear error and changes
/// nothing: a login that is not one, a token that is not the person's, a heads
/// file with a line that is not a head, a chain key too short to key anything.
#[test]
fn persons_tokens_heads_and_chain_keys_refuse_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 1, "", "");
    let refused = |out: &std::process::Output, says: &str| {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
        assert!(stderr(out).contains(says), "{says}: {}", stderr(out));
    };
    refused(
        &run_cli(
            &config,
            &[
                "persons", "add", "Aigul S", "--name", "A", "--role", "manager",
            ],
        ),
        "login `Aigul S`",
    );
    refused(
        &run_cli(
            &config,
            &["persons", "add", "aigul", "--name", "A", "--role", "boss"],
        ),
        "boss",
    );
    assert!(!stdout(&run_cli(&config, &["persons", "list"])).contains("aigul"));

    let aigul = support::senim::person(&config, "aigul", &["manager"]);
    let impostor = support::senim::Person {
        login: "aigul".into(),
        token: format!("snm_{}", "0".repeat(64)),
    };
    refused(
        &support::senim::run_cli_as(
            &config,
            &impostor,
            &["journal", "list", "--json", "--with-identity"],
        ),
        "the token is not theirs",
    );
    let ok = support::senim::run_cli_as(
        &config,
        &aigul,
        &["journal", "list", "--json", "--with-identity"],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));

    let key = dir.path().join("chain.key");
    std::fs::write(&key, "k".repeat(64)).unwrap();
    let keyed = dir.path().join("keyed.toml");
    std::fs::write(
        &keyed,
        std::fs::read_to_string(&config).unwrap()
            + &format!("[journal]\nchain_key_file = \"{}\"\n", key.display()),
    )
    .unwrap();
    let heads = dir.path().join("heads.jsonl");
    std::fs::write(&heads, "not a head\n").unwrap();
    refused(
        &run_cli(
            &keyed,
            &["journal", "verify", "--heads", heads.to_str().unwrap()],
        ),
        "line 1: not a published head",
    );
    std::fs::write(&key, "short\n").unwrap();
    refused(
        &run_cli(&keyed, &["journal", "verify"]),
        "at least 32 bytes",
    );
}
