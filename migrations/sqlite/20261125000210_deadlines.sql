-- Deadlines that follow an appeal (src/deadlines): dates are Astana dates.
CREATE TABLE deadlines (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    appeal_id   INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN
                    ('reply', 'extension_notice', 'redirect', 'investigation', 'materials')),
    started_on  TEXT    NOT NULL,
    due_on      TEXT    NOT NULL,
    extended    BOOLEAN NOT NULL DEFAULT FALSE,
    reason      TEXT,
    met_on      TEXT,
    created_at  TEXT    NOT NULL
);
CREATE UNIQUE INDEX deadlines_once ON deadlines (appeal_id, kind)
    WHERE kind IN ('reply', 'extension_notice', 'redirect');
CREATE INDEX deadlines_open ON deadlines (met_on, due_on);

-- The manager's record of what started and ended them.
CREATE TABLE deadline_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    appeal_id  INTEGER NOT NULL,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    event      TEXT    NOT NULL
);
