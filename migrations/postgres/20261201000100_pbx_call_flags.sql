-- The telephone channel (issue 8, sections 4 and 5). Owned by src/pbx.
-- caller_raw: the caller as the PBX sent it (caller holds the E.164 form where it
-- can be decided). late_delivery: the record arrived more than
-- pbx.late_tolerance_seconds after the call ended, so its appeal was registered
-- when Senim received it, not at the call's start. unfinished: a CTI call answered
-- but never hung up, registered pbx.unanswered_hangup_hours after its answer.
-- Calls logged before this migration keep their values and read as neither.
ALTER TABLE pbx_calls ADD COLUMN caller_raw TEXT;
ALTER TABLE pbx_calls ADD COLUMN late_delivery BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pbx_calls ADD COLUMN unfinished BOOLEAN NOT NULL DEFAULT FALSE;
-- The unanswered-call sweep looks for answers without a hangup, oldest first.
CREATE INDEX pbx_cti_events_by_kind ON pbx_cti_events (event, received_at);
