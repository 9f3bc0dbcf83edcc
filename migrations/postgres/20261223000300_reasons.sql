-- The free-text reasons of acts (issue 20): a classification's, a consent's
-- or refusal's, "not considered", closing, an extension's, a correction's.
-- They describe the substance, so they are kept out of the append-only audit
-- chain: the event names the reason (`kept_reason`, its `seq`) and its
-- SHA-256, and the text is here, plain before sealing (with a random salt in
-- the hash, so the hash left in the chain cannot confirm a guess once the row
-- is sealed or destroyed), sealed to the office key after `senim keys init`
-- (`envelope`, `generation`), deleted with the appeal under the records
-- schedule. Owned by the Journal.
CREATE TABLE appeal_reasons (
    appeal_id  BIGINT NOT NULL REFERENCES appeals (id),
    seq        BIGINT NOT NULL,
    salt       BYTEA,
    plain      TEXT,
    generation BIGINT,
    envelope   BYTEA,
    PRIMARY KEY (appeal_id, seq)
);
