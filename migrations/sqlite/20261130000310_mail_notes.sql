-- What was repaired to read a stored message (an mbox separator line skipped, a
-- header charset guessed, only the header fetched): kept with the message, so a
-- reader of the stored text knows how it was obtained.
ALTER TABLE mail_messages ADD COLUMN notes TEXT;
