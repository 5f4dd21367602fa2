-- Personal calendar feeds. A calendar app fetches the feed without a bearer token, so its address
-- carries a secret; only the secret's SHA-256 is kept (a leaked table row opens no feed), and a
-- revoked feed stays revoked (its address answers 410 Gone).
CREATE TABLE calendar_feeds (
    id            uuid PRIMARY KEY,
    person_id     text NOT NULL,
    -- the compounds of the person's token when the feed was made: their meetings are listed
    compound_ids  uuid[] NOT NULL,
    label         text NOT NULL DEFAULT '',
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX calendar_feeds_person ON calendar_feeds (person_id, created_at);
