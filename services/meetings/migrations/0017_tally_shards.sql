-- A secret ballot is one statement (votes/casting.py), and thousands land together: each added
-- to the one running-total row of its choice, so they queued on that row's lock through every
-- commit. Each choice's totals (each candidate's and choice's in an election) are now spread
-- over a few shard rows: a ballot adds to the shard of the database session that runs it (never
-- one derived from the voter), the tally sums the shards, and closing folds them back into one
-- row per choice (no closed vote keeps a shard that might hold a single ballot's area).
-- The totals kept so far are shard 0 of each choice: every vote's totals stay what they were.
-- The tables get new names: a replica still running the code from before (one row per choice)
-- fails on them, and its transaction rolls back, instead of closing a vote on one shard's
-- totals (a wrong result kept as final); a new replica retries the close.
-- The shard count (16) is also votes/store.py's SHARDS.
ALTER TABLE secret_tallies RENAME TO secret_tally_shards;
ALTER TABLE secret_tally_shards ADD COLUMN shard smallint NOT NULL DEFAULT 0
    CHECK (shard >= 0 AND shard < 16);
ALTER TABLE secret_tally_shards DROP CONSTRAINT secret_tallies_pkey,
    ADD PRIMARY KEY (vote_id, choice, shard);

ALTER TABLE election_tallies RENAME TO election_tally_shards;
ALTER TABLE election_tally_shards ADD COLUMN shard smallint NOT NULL DEFAULT 0
    CHECK (shard >= 0 AND shard < 16);
ALTER TABLE election_tally_shards DROP CONSTRAINT election_tallies_pkey,
    ADD PRIMARY KEY (vote_id, candidate_id, choice, shard);
