-- A deadline the case's end makes moot (the appeal closed, found "not considered",
-- forwarded or redirected) is ended, not met: `ended_on` and `ended_by` (the act
-- that ended it), each also an event of the audit chain. An ended deadline is never
-- overdue nor missed. New kinds: `triage` (classified, routed or found "not
-- considered" by the end of the day after registration, 10.6) and `threat_forward`
-- (a criminal offence or a threat sent to the competent body the same day, 6.3).
ALTER TABLE deadlines ADD COLUMN ended_on DATE;
ALTER TABLE deadlines ADD COLUMN ended_by TEXT;
ALTER TABLE deadlines DROP CONSTRAINT IF EXISTS deadlines_kind_check;
ALTER TABLE deadlines ADD CONSTRAINT deadlines_kind_check CHECK (kind IN
    ('reply', 'extension_notice', 'redirect', 'investigation', 'materials',
     'triage', 'threat_forward'));
DROP INDEX IF EXISTS deadlines_once;
CREATE UNIQUE INDEX deadlines_once ON deadlines (appeal_id, kind)
    WHERE kind IN ('reply', 'extension_notice', 'redirect', 'triage', 'threat_forward');
CREATE INDEX IF NOT EXISTS deadlines_appeal ON deadlines (appeal_id);
