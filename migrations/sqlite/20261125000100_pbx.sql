-- The telephone channel (clauses 10.1-10.5). Owned by src/pbx. Instants are UTC.

-- Every call a PBX reported, answered or missed, and the answer Senim gave, so
-- that a retried delivery gets the same answer. Caller numbers are confidential.
CREATE TABLE pbx_calls (
    source             TEXT    NOT NULL,
    call_id            TEXT    NOT NULL,
    format             TEXT    NOT NULL,
    linked_id          TEXT,
    caller             TEXT,
    called             TEXT,
    started_at         TEXT    NOT NULL,
    answered_at        TEXT,
    ended_at           TEXT    NOT NULL,
    duration_seconds   INTEGER NOT NULL,
    billable_seconds   INTEGER NOT NULL,
    disposition        TEXT    NOT NULL CHECK (disposition IN ('answered', 'no_answer', 'busy', 'failed', 'voicemail')),
    extension          TEXT,
    in_working_hours   BOOLEAN NOT NULL,
    outcome            TEXT    NOT NULL CHECK (outcome IN ('appeal', 'logged')),
    appeal_id          INTEGER,
    received_at        TEXT    NOT NULL,
    response_status    INTEGER NOT NULL,
    response_body      TEXT    NOT NULL,
    PRIMARY KEY (source, call_id)
);
CREATE INDEX pbx_calls_by_start ON pbx_calls (started_at);

-- A call's recording: uploaded, or to be downloaded from the PBX in the background.
-- Stored files live under <data_dir>/recordings/<sha256[0..2]>/<sha256>.
CREATE TABLE pbx_recordings (
    source          TEXT    NOT NULL,
    call_id         TEXT    NOT NULL,
    url             TEXT,
    file_name       TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'stored', 'failed', 'name_only')),
    sha256          TEXT,
    size_bytes      INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    stored_at       TEXT,
    PRIMARY KEY (source, call_id)
);
CREATE INDEX pbx_recordings_pending ON pbx_recordings (state, next_attempt_at);

-- Zammad Generic CTI events, at most one of each kind per call, in any order;
-- the call is complete with its hangup. Each keeps the answer it got.
CREATE TABLE pbx_cti_events (
    source        TEXT    NOT NULL,
    call_id       TEXT    NOT NULL,
    event         TEXT    NOT NULL CHECK (event IN ('newCall', 'answer', 'hangup')),
    caller        TEXT,
    called        TEXT,
    cause         TEXT,
    answered_by   TEXT,
    received_at   TEXT    NOT NULL,
    response_body TEXT    NOT NULL,
    PRIMARY KEY (source, call_id, event)
);
