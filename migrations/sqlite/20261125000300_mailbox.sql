-- The e-mail channel's store (src/mailbox): every message that reached the
-- dedicated mailbox, as received (raw bytes) and as read (parsed fields), its
-- attachments, and the acknowledgements sent. Written in the same transaction as
-- the Journal's registration, before the message is moved on the server.
-- Raw bytes live here (not in files) so that they commit atomically with the
-- registration: there is no window where one exists without the other.

CREATE TABLE mail_messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- mailbox + UIDVALIDITY + UID where it was first seen.
    source_key     TEXT    NOT NULL UNIQUE,
    message_id     TEXT,
    sha256         TEXT    NOT NULL,
    received_at    TEXT    NOT NULL,
    stored_at      TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    raw            BLOB    NOT NULL,
    disposition    TEXT    NOT NULL CHECK (disposition IN ('appeal', 'correspondence', 'automatic')),
    -- For 'automatic': bounce, auto_reply or list, and the RFC 3834 rule that matched.
    automatic_kind TEXT,
    rule           TEXT,
    -- Why the message was not (fully) parsed: oversized, unparseable.
    problem        TEXT,
    appeal_id      INTEGER,
    from_name      TEXT,
    from_address   TEXT,
    subject        TEXT,
    body_text      TEXT,
    CHECK ((disposition = 'automatic') = (appeal_id IS NULL))
);
CREATE INDEX mail_messages_by_appeal ON mail_messages (appeal_id);

-- Every reference a stored message is known by: its first source key, the
-- source keys it had later (after a UIDVALIDITY change, a copy back into the
-- folder), its Message-ID and the SHA-256 of its raw bytes.
CREATE TABLE mail_refs (
    kind       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    message_pk INTEGER NOT NULL REFERENCES mail_messages (id),
    PRIMARY KEY (kind, key)
);

CREATE TABLE mail_attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_pk   INTEGER NOT NULL REFERENCES mail_messages (id),
    position     INTEGER NOT NULL,
    filename     TEXT,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    content      BLOB    NOT NULL,
    UNIQUE (message_pk, position)
);

-- When a sender (SHA-256 of the lower-cased address) was last acknowledged.
CREATE TABLE mail_ack_log (
    sender_hash TEXT    PRIMARY KEY,
    last_ack_at TEXT    NOT NULL,
    appeal_id   INTEGER NOT NULL
);

-- The UIDVALIDITY last seen per mailbox, to log a change.
CREATE TABLE mail_folders (
    mailbox     TEXT    PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    seen_at     TEXT    NOT NULL
);

-- Who settles (moves or flags) the message at a place (mailbox + UIDVALIDITY +
-- UID), and until when. The Senim process that commits a message claims it; another
-- process that finds it already stored leaves it to the claimant until the claim
-- runs out (the claimant died), so two processes never both move one message.
CREATE TABLE mail_settle_claims (
    source_key    TEXT    PRIMARY KEY,
    owner         TEXT    NOT NULL,
    claimed_until TEXT NOT NULL
);
