-- A secret ballot's receipt: the voter keeps a random nonce, participation keeps only
-- sha256(vote, entry, nonce, choice). With the nonce the voter (and only they) can read back
-- their own choice; without it the seal tells nothing (the nonce has 192 random bits).
ALTER TABLE participation ADD COLUMN seal text;
