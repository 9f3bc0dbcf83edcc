-- Deadlines that follow an appeal (src/deadlines): dates are Astana dates.
CREATE TABLE deadlines (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appeal_id   BIGINT      NOT NULL,
    kind        TEXT        NOT NULL CHECK (kind IN
                    ('reply', 'extension_notice', 'redirect', 'investigation', 'materials')),
    started_on  DATE        NOT NULL,
    due_on      DATE        NOT NULL,
    extended    BOOLEAN     NOT NULL DEFAULT FALSE,
    reason      TEXT,
    met_on      DATE,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX deadlines_once ON deadlines (appeal_id, kind)
    WHERE kind IN ('reply', 'extension_notice', 'redirect');
CREATE INDEX deadlines_open ON deadlines (met_on, due_on);

-- The manager's record of what started and ended them.
CREATE TABLE deadline_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appeal_id  BIGINT      NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT        NOT NULL,
    event      TEXT        NOT NULL
);
