-- Retention (`senim journal purge`, src/retention.rs): what each owner destroyed
-- of an appeal's personal data once its period ran out. The rows stay (counts,
-- sizes and checksums are not personal data); their content goes.
-- mail_messages (src/mailbox): when the raw bytes and attachments were destroyed
-- (raw becomes empty, the attachments' content too); the parsed fields go with
-- the appeal.
ALTER TABLE mail_messages ADD COLUMN destroyed_at TEXT;
-- pbx_recordings (src/pbx): when the recording was destroyed, and whether its
-- file is gone: the row says so first (in the purge's transaction), the file is
-- removed after the commit, then file_removed is set; a purge interrupted in
-- between removes it on its next run.
ALTER TABLE pbx_recordings ADD COLUMN destroyed_at TEXT;
ALTER TABLE pbx_recordings ADD COLUMN file_removed BOOLEAN NOT NULL DEFAULT FALSE;
-- outbox (src/outbox): when a mail's stored bytes were destroyed.
ALTER TABLE outbox ADD COLUMN destroyed_at TEXT;
