-- Sealing at rest (src/sealing owns the first three tables; src/journal the rest).

-- The office key's generations: public keys, the office identity sealed to the
-- escrow key, and the previous generation's identity sealed to this one.
CREATE TABLE sealing_keys (
    generation        INTEGER PRIMARY KEY,
    office_recipient  TEXT    NOT NULL,
    escrow_recipient  TEXT    NOT NULL,
    escrowed_identity BLOB    NOT NULL,
    previous_identity BLOB,
    created_at        TEXT    NOT NULL,
    created_by        TEXT    NOT NULL
);

-- Each person's own key: an age identity encrypted with their passphrase.
CREATE TABLE person_keys (
    login      TEXT PRIMARY KEY,
    recipient  TEXT NOT NULL,
    identity   BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- The office key of a generation, sealed to a person's key.
CREATE TABLE key_grants (
    generation      INTEGER NOT NULL,
    login           TEXT    NOT NULL,
    office_identity BLOB    NOT NULL,
    granted_at      TEXT    NOT NULL,
    granted_by      TEXT    NOT NULL,
    PRIMARY KEY (generation, login)
);

-- The Journal's sealed values: each write of identity or text is one envelope,
-- read in order (later fields override earlier ones).
CREATE TABLE appeal_envelopes (
    appeal_id  INTEGER NOT NULL REFERENCES appeals (id),
    seq        INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    fields     TEXT    NOT NULL,
    envelope   BLOB    NOT NULL,
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
ALTER TABLE audit_head ADD COLUMN seal_generation INTEGER NOT NULL DEFAULT 0;
