-- The audit chain turns public at its switch point (journal::audit): the first
-- event hashed with plain SHA-256, from the first write with a signing key on;
-- from then on every write signs the head (seq, hash, public_from, keyed) with the
-- installation's signing key, so whoever holds the public key checks it, and
-- nobody without the signing key can move it.
ALTER TABLE audit_head ADD COLUMN public_from BIGINT;
ALTER TABLE audit_head ADD COLUMN head_signature TEXT;

-- Each appeal's deadlines, signed as a whole at every write (deadlines::seal):
-- their ids, kinds and the SHA-256 of each row's content, and the signature.
CREATE TABLE deadline_seals (
    appeal_id BIGINT PRIMARY KEY,
    rows      TEXT NOT NULL,
    signature TEXT NOT NULL
);
