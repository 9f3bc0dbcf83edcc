-- The installation's signature (Ed25519, hex; `src/authority.rs`) of each row that
-- says whom Senim seals or wraps to, or what a person may do: written by the
-- command that makes the row, checked every time the row is used and by
-- `senim journal verify`. NULL: a row from before signing, which
-- `senim keys authenticate` adopts deliberately (docs/security.md).
ALTER TABLE sealing_keys ADD COLUMN signature TEXT;
ALTER TABLE person_keys ADD COLUMN signature TEXT;
ALTER TABLE key_grants ADD COLUMN signature TEXT;
ALTER TABLE persons ADD COLUMN signature TEXT;
