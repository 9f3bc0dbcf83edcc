-- A deadline the case's end makes moot (the appeal closed, found "not considered",
-- forwarded or redirected) is ended, not met: `ended_on` and `ended_by` (the act
-- that ended it), each also an event of the audit chain. An ended deadline is never
-- overdue nor missed. New kinds: `triage` (classified, routed or found "not
-- considered" by the end of the day after registration, 10.6) and `threat_forward`
-- (a criminal offence or a threat sent to the competent body the same day, 6.3).
-- SQLite cannot change a CHECK: the table is rebuilt.
CREATE TABLE deadlines_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    appeal_id   INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN
                    ('reply', 'extension_notice', 'redirect', 'investigation', 'materials',
                     'triage', 'threat_forward')),
    started_on  TEXT    NOT NULL,
    due_on      TEXT    NOT NULL,
    extended    BOOLEAN NOT NULL DEFAULT FALSE,
    reason      TEXT,
    met_on      TEXT,
    created_at  TEXT    NOT NULL,
    ended_on    TEXT,
    ended_by    TEXT
);
INSERT INTO deadlines_new (id, appeal_id, kind, started_on, due_on, extended, reason, met_on, created_at)
    SELECT id, appeal_id, kind, started_on, due_on, extended, reason, met_on, created_at FROM deadlines;
DROP TABLE deadlines;
ALTER TABLE deadlines_new RENAME TO deadlines;
CREATE UNIQUE INDEX deadlines_once ON deadlines (appeal_id, kind)
    WHERE kind IN ('reply', 'extension_notice', 'redirect', 'triage', 'threat_forward');
CREATE INDEX deadlines_open ON deadlines (met_on, due_on);
CREATE INDEX deadlines_appeal ON deadlines (appeal_id);
