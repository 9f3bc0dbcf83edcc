-- The console (src/server/console): a person's password for the browser, as an
-- Argon2id PHC string (salted; never the password). Owned by `persons`.
ALTER TABLE persons ADD COLUMN password_hash TEXT;
