-- When a re-read of the session's memberships last failed (the directory down, or accepting
-- connections without answering), NULL since the last one that succeeded: the session does
-- not ask again for a short while (memberships_retry_seconds), so a silent directory costs
-- one session one short wait per while, not every page the whole client timeout
-- (services/portal/signed_in.py). Kept in the row, not in one process, so every replica
-- behind the proxy waits alike.
ALTER TABLE sessions ADD COLUMN memberships_tried_at timestamptz;
