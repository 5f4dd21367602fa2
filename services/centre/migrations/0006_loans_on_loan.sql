-- The desk's list of books out now (GET /loans): a compound's active loans by due day, one
-- index range per page.
CREATE INDEX loans_on_loan ON loans (compound_id, due_on, id) WHERE status = 'active';
