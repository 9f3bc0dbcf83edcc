-- The outbox (src/outbox): every e-mail Senim sends, written in the same
-- transaction as the change that causes it, then delivered by the sender task.
-- Instants are UTC (RFC 3339 text, whole seconds).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- What this mail is, once: a second enqueue with the same key is a no-op.
    dedupe_key      TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    -- A registration number, a date: what an administrator sees in `outbox list`.
    reference       TEXT    NOT NULL,
    appeal_id       INTEGER,
    message_id      TEXT    NOT NULL UNIQUE,
    envelope_from   TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    -- The whole message as lettre formatted it at enqueue time.
    message         BLOB    NOT NULL,
    urgent          BOOLEAN NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    -- While `sending`: the Senim process (its instance id) that is sending it;
    -- its claim lasts until `next_attempt_at`, then another process may send it.
    claimed_by      TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    next_attempt_at TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT,
    -- An alert's legal deadline (23:59:59 Astana on the day after registration),
    -- when it goes to the deputies too if still undelivered, and when it did.
    due_by          TEXT,
    escalate_at     TEXT,
    escalated_at    TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Which appeals have had which alert (src/alerts), so none is alerted twice.
CREATE TABLE alert_marks (
    appeal_id  INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (appeal_id, kind)
);
