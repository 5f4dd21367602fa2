-- Keyset pages of the households list (by name, then id) read one index range per page.
CREATE INDEX households_compound_name ON households (compound_id, name, id);
