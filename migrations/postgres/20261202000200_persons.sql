-- The people who work the trust line, each with roles and a personal API token
-- (stored only as its SHA-256). Owned by `persons`.
CREATE TABLE persons (
    id          BIGSERIAL   PRIMARY KEY,
    login       TEXT        NOT NULL UNIQUE,
    full_name   TEXT        NOT NULL,
    roles       TEXT        NOT NULL,
    token_hash  TEXT        NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    disabled_at TIMESTAMPTZ
);
