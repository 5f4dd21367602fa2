-- Votes on a proposal version, the roll frozen when they open, and the ballots.
CREATE TABLE votes (
    id               uuid PRIMARY KEY,
    compound_id      uuid NOT NULL,
    proposal_id      uuid NOT NULL REFERENCES proposals(id),
    version          int NOT NULL,
    rule             text NOT NULL,
    quorum           text,              -- exact fraction "p/q" (simple_majority only)
    secret           boolean NOT NULL DEFAULT false,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opens_at         timestamptz NOT NULL DEFAULT now(),
    closes_at        timestamptz NOT NULL,
    closed_at        timestamptz,
    opened_by        text NOT NULL,
    closed_by        text,
    total_area_centi bigint NOT NULL CHECK (total_area_centi > 0),
    total_headcount  int NOT NULL CHECK (total_headcount > 0),
    outcome          text,
    result           jsonb,
    FOREIGN KEY (proposal_id, version) REFERENCES proposal_versions (proposal_id, number)
);
-- one open vote per proposal at a time
CREATE UNIQUE INDEX votes_one_open ON votes (proposal_id) WHERE status = 'open';
CREATE INDEX votes_due ON votes (closes_at) WHERE status = 'open';
CREATE INDEX votes_compound ON votes (compound_id, opens_at DESC);

-- The frozen roll: one voter per entry, as the judicial interpretation counts them.
CREATE TABLE roll_entries (
    vote_id     uuid NOT NULL REFERENCES votes(id),
    entry_id    text NOT NULL,
    kind        text NOT NULL,
    owner_ids   uuid[] NOT NULL,
    unit_ids    uuid[] NOT NULL,
    area_centi  bigint NOT NULL CHECK (area_centi >= 0),
    headcount   int NOT NULL CHECK (headcount >= 1),
    PRIMARY KEY (vote_id, entry_id)
);
CREATE TABLE roll_owners (
    vote_id     uuid NOT NULL,
    person_id   uuid NOT NULL,
    entry_id    text NOT NULL,
    PRIMARY KEY (vote_id, person_id, entry_id),
    FOREIGN KEY (vote_id, entry_id) REFERENCES roll_entries (vote_id, entry_id)
);

-- Open votes: one ballot per roll entry (the primary key), changeable until close.
CREATE TABLE ballots (
    vote_id     uuid NOT NULL,
    entry_id    text NOT NULL,
    choice      text NOT NULL CHECK (choice IN ('agree', 'oppose', 'abstain')),
    channel     text NOT NULL CHECK (channel IN ('online', 'paper', 'proxy')),
    cast_by     text NOT NULL,          -- the owner online, or the owner the paper was for
    entered_by  text,                   -- the officer who entered a paper or proxy ballot
    proxy_name  text,
    revisions   int NOT NULL DEFAULT 0,
    cast_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vote_id, entry_id),
    FOREIGN KEY (vote_id, entry_id) REFERENCES roll_entries (vote_id, entry_id)
);

-- Secret votes: who voted ...
CREATE TABLE participation (
    vote_id     uuid NOT NULL,
    entry_id    text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('online', 'paper', 'proxy')),
    cast_by     text NOT NULL,
    entered_by  text,
    proxy_name  text,
    cast_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vote_id, entry_id),
    FOREIGN KEY (vote_id, entry_id) REFERENCES roll_entries (vote_id, entry_id)
);
-- ... and what was voted: a random id, the choice and the weight the law counts, nothing that
-- names the voter or the entry, and no time (a timestamp could be matched against participation).
CREATE TABLE secret_ballots (
    id          uuid PRIMARY KEY,
    vote_id     uuid NOT NULL REFERENCES votes(id),
    choice      text NOT NULL CHECK (choice IN ('agree', 'oppose', 'abstain')),
    area_centi  bigint NOT NULL,
    headcount   int NOT NULL
);
CREATE INDEX secret_ballots_vote ON secret_ballots (vote_id);
