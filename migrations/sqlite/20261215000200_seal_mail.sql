-- Sealing the e-mail channel's store and the outbox at rest (issue 10). Plain
-- values stay where they were while sealing is off; once `senim keys init` has
-- made the office key, new rows are written sealed and the old ones are sealed in
-- place (`mailbox::store::seal_existing_in`, `Outbox::seal_existing_in`).

-- mail_messages (src/mailbox): `raw` holds an age envelope to the office and
-- escrow keys; the sender, subject, text and notes are one sealed JSON envelope
-- here (their plain columns stay NULL); the office key generation sealed to
-- (NULL: a plain row). `message_id` and `sha256` hold keyed hashes.
ALTER TABLE mail_messages ADD COLUMN sealed_fields BLOB;
ALTER TABLE mail_messages ADD COLUMN generation INTEGER;

-- mail_attachments (src/mailbox): `content` holds an envelope, the file name one
-- of its own here (`filename` stays NULL); `sha256` a keyed hash.
ALTER TABLE mail_attachments ADD COLUMN sealed_filename BLOB;

-- outbox (src/outbox): a sealed mail's `message` is sealed with the intake key,
-- its recipient too (here; `recipient` holds a placeholder).
ALTER TABLE outbox ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sealed_recipient BLOB;
