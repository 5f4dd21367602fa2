-- A convened meeting can be cancelled (with a reason) until it has been held.
ALTER TABLE meetings ADD COLUMN cancelled_at timestamptz;
ALTER TABLE meetings ADD COLUMN cancelled_by text;
ALTER TABLE meetings ADD COLUMN cancel_reason text;
