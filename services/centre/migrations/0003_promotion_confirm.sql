-- People promoted from a waiting list after the cut-off before the start confirm by this time,
-- or their place passes on to the next person waiting (null: nothing to confirm).
ALTER TABLE signups ADD COLUMN confirm_by timestamptz;
CREATE INDEX signups_unconfirmed ON signups (confirm_by) WHERE confirm_by IS NOT NULL;
