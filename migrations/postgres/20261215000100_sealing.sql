-- Sealing at rest (src/sealing owns the first three tables; src/journal the rest).

-- The office key's generations: public keys, the office identity sealed to the
-- escrow key, and the previous generation's identity sealed to this one.
CREATE TABLE sealing_keys (
    generation        BIGINT PRIMARY KEY,
    office_recipient  TEXT    NOT NULL,
    escrow_recipient  TEXT    NOT NULL,
    escrowed_identity BYTEA    NOT NULL,
    previous_identity BYTEA,
    created_at        TIMESTAMPTZ   NOT NULL,
    created_by        TEXT    NOT NULL
);

-- Each person's own key: an age identity encrypted with their passphrase.
CREATE TABLE person_keys (
    login      TEXT PRIMARY KEY,
    recipient  TEXT NOT NULL,
    identity   BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- The office key of a generation, sealed to a person's key.
CREATE TABLE key_grants (
    generation      BIGINT NOT NULL,
    login           TEXT    NOT NULL,
    office_identity BYTEA    NOT NULL,
    granted_at      TIMESTAMPTZ NOT NULL,
    granted_by      TEXT    NOT NULL,
    PRIMARY KEY (generation, login)
);

-- The Journal's sealed values: each write of identity or text is one envelope,
-- read in order (later fields override earlier ones).
CREATE TABLE appeal_envelopes (
    appeal_id  BIGINT NOT NULL REFERENCES appeals (id),
    seq        BIGINT NOT NULL,
    generation BIGINT NOT NULL,
    fields     TEXT    NOT NULL,
    envelope   BYTEA    NOT NULL,
    PRIMARY KEY (appeal_id, seq)
);

-- The digest of an appeal's envelopes (in the audit state), the keyed hash of the
-- reporter's e-mail address (to recognise their replies), and the words of the
-- triage lexicon and routing keywords found in the text at intake.
ALTER TABLE appeals ADD COLUMN sealed_digest TEXT;
ALTER TABLE appeals ADD COLUMN reporter_email_tag TEXT;
ALTER TABLE appeals ADD COLUMN intake_terms TEXT;

-- The office key generation the Journal seals to, in the row every Journal write
-- locks: a process that finds a newer one than it knows rereads the keys first.
ALTER TABLE audit_head ADD COLUMN seal_generation BIGINT NOT NULL DEFAULT 0;
