-- The Journal of citizens' appeals (clause 10.6) and its hash-chained audit log.
-- Owned by src/journal. Instants are UTC, dates are Astana dates.

-- The last registration number handed out, per prefix and year of registration.
CREATE TABLE registration_counters (
    prefix      TEXT   NOT NULL,
    year        BIGINT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE appeals (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_number     TEXT        NOT NULL UNIQUE,
    registration_year       BIGINT      NOT NULL,
    registration_seq        BIGINT      NOT NULL,
    received_at             TIMESTAMPTZ NOT NULL,
    registered_at           TIMESTAMPTZ NOT NULL,
    registration_date       DATE        NOT NULL,
    channel                 TEXT        NOT NULL CHECK (channel IN ('phone', 'email', 'web', 'other')),
    reporter_name           TEXT,
    reporter_organisation   TEXT,
    reporter_postal_address TEXT,
    reporter_phone          TEXT,
    reporter_email          TEXT,
    anonymous               BOOLEAN     NOT NULL,
    no_return_address       BOOLEAN     NOT NULL,
    subject                 TEXT,
    substance               TEXT,
    category                TEXT        NOT NULL CHECK (category IN
                                ('unclassified', 'corruption', 'not_corruption', 'criminal_offence')),
    status                  TEXT        NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    UNIQUE (registration_year, registration_seq)
);
CREATE INDEX appeals_by_date ON appeals (registration_date);

-- Outside references of an appeal (PBX call id, mailbox + UIDVALIDITY + UID,
-- Message-ID, ...). The same outside item is registered at most once.
CREATE TABLE appeal_sources (
    kind      TEXT   NOT NULL,
    key       TEXT   NOT NULL,
    appeal_id BIGINT NOT NULL REFERENCES appeals (id),
    PRIMARY KEY (kind, key)
);
CREATE INDEX appeal_sources_by_appeal ON appeal_sources (appeal_id);

-- Append-only, hash-chained: each event's hash covers the previous one's.
CREATE TABLE appeal_events (
    seq        BIGINT      PRIMARY KEY,
    appeal_id  BIGINT      NOT NULL REFERENCES appeals (id),
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT        NOT NULL,
    kind       TEXT        NOT NULL,
    detail     TEXT        NOT NULL,
    state_hash TEXT        NOT NULL,
    prev_hash  TEXT        NOT NULL,
    hash       TEXT        NOT NULL
);
CREATE INDEX appeal_events_by_appeal ON appeal_events (appeal_id, seq);

-- The chain's head; every Journal write takes it first, which orders the chain.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT   NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION appeal_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'appeal_events is append-only';
END $$;
CREATE TRIGGER appeal_events_append_only BEFORE UPDATE OR DELETE ON appeal_events
FOR EACH ROW EXECUTE FUNCTION appeal_events_append_only();
