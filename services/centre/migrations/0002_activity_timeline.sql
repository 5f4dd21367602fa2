-- The steps of an activity's timeline (ActivityWorkflow), each done once.
ALTER TABLE activities
    ADD COLUMN reminded_at            timestamptz,
    ADD COLUMN feedback_requested_at  timestamptz,
    ADD COLUMN closed_at              timestamptz;
