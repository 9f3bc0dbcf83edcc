-- The audit chain may be keyed with a secret kept outside the database
-- (journal.chain_key_file): then every event's hash is an HMAC under it.
ALTER TABLE audit_head ADD COLUMN keyed BOOLEAN NOT NULL DEFAULT FALSE;
