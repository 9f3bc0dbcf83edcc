-- Deadline events are events of the audit chain (cases::Case::record). Those
-- recorded before, in this table alone, are carried into the chain once
-- (deadlines::Deadlines::chain_earlier_events); this marks which are.
ALTER TABLE deadline_events ADD COLUMN chained_at TIMESTAMPTZ;
