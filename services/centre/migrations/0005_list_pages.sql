-- Keyset pages of the interest groups (oldest first) and of a group's members (leaders first,
-- then by joining) read one index range per page.
CREATE INDEX interest_groups_compound ON interest_groups (compound_id, created_at, id);
CREATE INDEX group_members_roll ON group_members (group_id, role, joined_at, person_id);
