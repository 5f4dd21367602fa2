-- When the session's memberships were last read from the directory: the portal reads them
-- again once they are older than a minute (services/portal/signed_in.py), so a person who
-- moved out or lost a role stops acting in that compound within about a minute, not at the
-- end of a 12-hour session. Sessions open before this migration count as read now.
ALTER TABLE sessions ADD COLUMN memberships_read_at timestamptz NOT NULL DEFAULT now();
