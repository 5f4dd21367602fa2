-- A resident's own issues ("mine") read from an index from the newest on: without it the page
-- walks the whole compound's list for the few issues one person reported.
CREATE INDEX issues_reporter ON issues (compound_id, reporter_id, created_at DESC, id DESC);
