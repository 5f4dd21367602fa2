-- A vote can be cancelled while open (e.g. the proposal's process was cancelled): no tally,
-- no result; its ballots stay for audit.
ALTER TABLE votes DROP CONSTRAINT votes_status_check;
ALTER TABLE votes ADD CONSTRAINT votes_status_check
    CHECK (status IN ('open', 'closed', 'cancelled'));
ALTER TABLE votes ADD COLUMN cancelled_at timestamptz;
ALTER TABLE votes ADD COLUMN cancelled_by text;
ALTER TABLE votes ADD COLUMN cancel_reason text;
