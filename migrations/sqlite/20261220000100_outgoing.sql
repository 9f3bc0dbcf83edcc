-- The outgoing register: the documents the office sends (the cover letter of
-- 10.7, replies, extension notices), each with a gapless number per prefix and
-- year, taken in the same transaction as its row. Owned by src/documents.
-- A document holds no identity of a reporter: its files are kept here as sent.

-- The last outgoing number handed out, per prefix and year (Astana date).
CREATE TABLE outgoing_counters (
    prefix      TEXT    NOT NULL,
    year        INTEGER NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE outgoing_register (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    number     TEXT    NOT NULL UNIQUE,
    prefix     TEXT    NOT NULL,
    year       INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    issued_on  TEXT    NOT NULL,
    issued_at  TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('cover_letter', 'reply', 'extension_notice')),
    appeal_id  INTEGER NOT NULL REFERENCES appeals (id),
    recipient  TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    UNIQUE (prefix, year, seq)
);
CREATE INDEX outgoing_register_by_appeal ON outgoing_register (appeal_id, id);

-- The files of a registered document, as issued, with their SHA-256.
CREATE TABLE outgoing_files (
    register_id INTEGER NOT NULL REFERENCES outgoing_register (id),
    format      TEXT    NOT NULL CHECK (format IN ('docx', 'pdf')),
    name        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    content     BLOB    NOT NULL,
    PRIMARY KEY (register_id, format)
);
