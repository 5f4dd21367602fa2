-- Keyset pages of the care plans (active first, newest first) read one index range per page.
CREATE INDEX care_plans_compound ON care_plans (compound_id, status, created_at DESC, id DESC);
