-- The investigation file (7.3-7.11): the order, the commission, the materials
-- asked for and received, the extension, the reasoned conclusion and the
-- decision. Owned by src/investigation. Kept sealed to a key of the file's own
-- (7.9), which is kept only wrapped to each reader's own key and to the escrow;
-- the office key does not open it. Each entry's SHA-256 is in the audit chain.

CREATE TABLE investigation_files (
    appeal_id  INTEGER PRIMARY KEY REFERENCES appeals (id),
    -- The file key's public half (age): what each entry is sealed to.
    recipient  TEXT    NOT NULL,
    opened_at  TEXT    NOT NULL,
    opened_by  TEXT    NOT NULL
);

-- The commission's members who work the line (logins): they may read the file
-- and record in it. Members from outside Senim are named only in the sealed
-- entries.
CREATE TABLE investigation_members (
    appeal_id INTEGER NOT NULL REFERENCES investigation_files (appeal_id),
    login     TEXT    NOT NULL,
    PRIMARY KEY (appeal_id, login)
);

-- The file key, sealed to one reader: `person:<login>` or `escrow`.
CREATE TABLE investigation_grants (
    appeal_id  INTEGER NOT NULL REFERENCES investigation_files (appeal_id),
    reader     TEXT    NOT NULL,
    wrapped    BLOB    NOT NULL,
    granted_at TEXT    NOT NULL,
    granted_by TEXT    NOT NULL,
    PRIMARY KEY (appeal_id, reader)
);

CREATE TABLE investigation_entries (
    appeal_id   INTEGER NOT NULL REFERENCES investigation_files (appeal_id),
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('ordered', 'commission', 'extended',
                    'materials_requested', 'materials_received', 'conclusion', 'decided')),
    -- The entry's date, and the request a materials entry is about (7.8):
    -- plain, as the chain's deadline events give them anyway.
    dated       TEXT       NOT NULL,
    request     INTEGER,
    recorded_at TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    sealed      BLOB    NOT NULL,
    PRIMARY KEY (appeal_id, seq)
);
