-- The residents' issues that led to a proposal (issues follows it through proposal.created:
-- with the council while it runs, resolved when the works are accepted, back otherwise).
ALTER TABLE proposals ADD COLUMN issue_ids uuid[] NOT NULL DEFAULT '{}';
