-- The Journal of citizens' appeals (clause 10.6) and its hash-chained audit log.
-- Owned by src/journal. Instants are UTC (RFC 3339 text), dates are Astana dates.

-- The last registration number handed out, per prefix and year of registration.
CREATE TABLE registration_counters (
    prefix      TEXT    NOT NULL,
    year        INTEGER NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE appeals (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_number     TEXT    NOT NULL UNIQUE,
    registration_year       INTEGER NOT NULL,
    registration_seq        INTEGER NOT NULL,
    received_at             TEXT    NOT NULL,
    registered_at           TEXT    NOT NULL,
    registration_date       TEXT    NOT NULL,
    channel                 TEXT    NOT NULL CHECK (channel IN ('phone', 'email', 'web', 'other')),
    reporter_name           TEXT,
    reporter_organisation   TEXT,
    reporter_postal_address TEXT,
    reporter_phone          TEXT,
    reporter_email          TEXT,
    anonymous               BOOLEAN NOT NULL,
    no_return_address       BOOLEAN NOT NULL,
    subject                 TEXT,
    substance               TEXT,
    category                TEXT    NOT NULL CHECK (category IN
                                ('unclassified', 'corruption', 'not_corruption', 'criminal_offence')),
    status                  TEXT    NOT NULL,
    updated_at              TEXT    NOT NULL,
    UNIQUE (registration_year, registration_seq)
);
CREATE INDEX appeals_by_date ON appeals (registration_date);

-- Outside references of an appeal (PBX call id, mailbox + UIDVALIDITY + UID,
-- Message-ID, ...). The same outside item is registered at most once.
CREATE TABLE appeal_sources (
    kind      TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    appeal_id INTEGER NOT NULL REFERENCES appeals (id),
    PRIMARY KEY (kind, key)
);
CREATE INDEX appeal_sources_by_appeal ON appeal_sources (appeal_id);

-- Append-only, hash-chained: each event's hash covers the previous one's.
CREATE TABLE appeal_events (
    seq        INTEGER PRIMARY KEY,
    appeal_id  INTEGER NOT NULL REFERENCES appeals (id),
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    state_hash TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);
CREATE INDEX appeal_events_by_appeal ON appeal_events (appeal_id, seq);

-- The chain's head; every Journal write takes it first, which orders the chain.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER appeal_events_no_update BEFORE UPDATE ON appeal_events
BEGIN SELECT RAISE(ABORT, 'appeal_events is append-only'); END;
CREATE TRIGGER appeal_events_no_delete BEFORE DELETE ON appeal_events
BEGIN SELECT RAISE(ABORT, 'appeal_events is append-only'); END;
