-- The earlier values of a recorded correction (issue 19; clause 10.5): what the
-- reporter's details and the appeal's subject and substance said before a
-- manager or the Director corrected them, kept as the law's record. Plain
-- Journal only: once sealing is on the earlier values stay in the appeal's
-- earlier envelopes (appeal_envelopes), and `senim keys init` seals these rows
-- into envelopes and deletes them. Who, when, why and which fields are in the
-- audit chain's `details_corrected` event. Owned by the Journal.
CREATE TABLE appeal_earlier_values (
    appeal_id    BIGINT NOT NULL REFERENCES appeals (id),
    seq          BIGINT NOT NULL,
    corrected_at TIMESTAMPTZ NOT NULL,
    fields       TEXT NOT NULL,
    earlier      TEXT NOT NULL,
    PRIMARY KEY (appeal_id, seq)
);
