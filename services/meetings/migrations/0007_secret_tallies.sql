-- Secret votes keep only running totals per choice. A row per ballot carried the voter's area
-- (near-unique per unit, so a join on area named the voter) and was written in the same
-- transaction as the participation row (same xmin: a join on xmin named every voter).
CREATE TABLE secret_tallies (
    vote_id     uuid NOT NULL REFERENCES votes(id),
    choice      text NOT NULL CHECK (choice IN ('agree', 'oppose', 'abstain')),
    ballots     int NOT NULL CHECK (ballots >= 0),
    area_centi  bigint NOT NULL CHECK (area_centi >= 0),
    headcount   int NOT NULL CHECK (headcount >= 0),
    PRIMARY KEY (vote_id, choice)
);
INSERT INTO secret_tallies (vote_id, choice, ballots, area_centi, headcount)
    SELECT vote_id, choice, count(*), sum(area_centi), sum(headcount)
    FROM secret_ballots GROUP BY vote_id, choice;
DROP TABLE secret_ballots;
