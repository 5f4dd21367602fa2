-- Electing the owners' committee (民法典 Art. 278 item 3): a vote with several seats and
-- candidates. Who voted is `participation` (one row per roll entry: the primary key keeps one
-- ballot per entry, open or secret); what was voted is per candidate.
ALTER TABLE votes ADD COLUMN seats int CHECK (seats IS NULL OR seats > 0);

CREATE TABLE election_candidates (
    vote_id      uuid NOT NULL REFERENCES votes(id),
    candidate_id uuid NOT NULL,          -- the candidate's person id (an owner on the roll)
    name         text NOT NULL,
    position     int NOT NULL,           -- order on the ballot paper
    PRIMARY KEY (vote_id, candidate_id),
    UNIQUE (vote_id, position)
);

-- Open elections: each ballot's mark for every candidate (unmarked = abstain, written out).
CREATE TABLE election_marks (
    vote_id      uuid NOT NULL,
    entry_id     text NOT NULL,
    candidate_id uuid NOT NULL,
    choice       text NOT NULL CHECK (choice IN ('agree', 'oppose', 'abstain')),
    PRIMARY KEY (vote_id, entry_id, candidate_id),
    FOREIGN KEY (vote_id, entry_id) REFERENCES participation (vote_id, entry_id),
    FOREIGN KEY (vote_id, candidate_id) REFERENCES election_candidates (vote_id, candidate_id)
);

-- Secret elections keep only running totals per candidate and choice, nothing per ballot.
CREATE TABLE election_tallies (
    vote_id      uuid NOT NULL,
    candidate_id uuid NOT NULL,
    choice       text NOT NULL CHECK (choice IN ('agree', 'oppose', 'abstain')),
    ballots      int NOT NULL CHECK (ballots >= 0),
    area_centi   bigint NOT NULL CHECK (area_centi >= 0),
    headcount    int NOT NULL CHECK (headcount >= 0),
    PRIMARY KEY (vote_id, candidate_id, choice),
    FOREIGN KEY (vote_id, candidate_id) REFERENCES election_candidates (vote_id, candidate_id)
);
