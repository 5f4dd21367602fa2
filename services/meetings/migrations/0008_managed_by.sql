-- The workflow running a proposal marks it here (its workflow id); while set, the transitions the
-- workflow drives (consultation, versions, votes, withdrawal) come only from the workflow.
ALTER TABLE proposals ADD COLUMN managed_by text;
