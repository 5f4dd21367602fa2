-- Loans are reminded once shortly before they fall due (a renewal reminds again).
ALTER TABLE loans ADD COLUMN due_reminded_at timestamptz;
CREATE INDEX loans_due_soon ON loans (due_on) WHERE status = 'active' AND due_reminded_at IS NULL;
