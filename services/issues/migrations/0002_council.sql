-- An issue that led to a proposal follows it: with the council while the proposal runs (its
-- response and resolution targets wait: council_since), resolved when the works are accepted,
-- back to its responsible party (targets moved by the time spent there) when it is abandoned.
ALTER TABLE issues
    ADD COLUMN proposal_id uuid,
    ADD COLUMN proposal_title text NOT NULL DEFAULT '',
    ADD COLUMN council_since timestamptz;
CREATE INDEX issues_proposal ON issues (proposal_id) WHERE proposal_id IS NOT NULL;
