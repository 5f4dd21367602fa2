-- An open vote's ballot is one statement (votes/casting.py). The guard (a shared advisory
-- lock; closing takes it exclusive) must come before the vote's status is read, and the read
-- must see a close that committed while the ballot waited for the guard: a volatile SQL
-- function runs each of its queries with a fresh snapshot (and is never inlined), which the
-- ballot's own statement, whose snapshot predates the wait, would not.
CREATE FUNCTION vote_open_for_ballot(vote uuid) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock_shared(hashtextextended(vote::text, 7));
    SELECT status = 'open' AND closes_at > now() FROM votes WHERE id = vote;
$$;
