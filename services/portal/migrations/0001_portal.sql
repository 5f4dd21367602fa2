-- The portal keeps only its own sessions and sign-in codes; everything else it reads and writes
-- through the other services' public APIs with the signed-in person's token.
CREATE TABLE sessions (
    token_hash   text PRIMARY KEY,            -- sha256 of the cookie value, never the value
    person_id    uuid NOT NULL,
    name         text NOT NULL,
    memberships  jsonb NOT NULL,              -- compounds, roles and units from the directory
    csrf         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE sign_in_codes (
    id          uuid PRIMARY KEY,
    phone       text NOT NULL,
    person_id   uuid NOT NULL,
    code_hash   text NOT NULL,
    address     text NOT NULL,
    attempts    int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX sign_in_codes_phone ON sign_in_codes (phone, created_at DESC);
CREATE INDEX sign_in_codes_address ON sign_in_codes (address, created_at DESC);

-- every wrong code, by phone and by address, for the attempt limits
CREATE TABLE sign_in_failures (
    phone       text NOT NULL,
    address     text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_phone ON sign_in_failures (phone, at);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, at);
