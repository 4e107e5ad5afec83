-- the Personio v2 token every host shares, sealed, and its keys
CREATE TABLE personio_tokens (
    client text PRIMARY KEY,           -- SHA-256 of the API URL and the OAuth client id
    generation bigint NOT NULL DEFAULT 0,  -- grows with every token stored
    token bytea,                       -- sealed with the token_keys key named key_id
    key_id text,                       -- client:generation:fetcher
    expires_at double precision,       -- epoch seconds, like every time below
    renew_at double precision,         -- a little before expires_at
    renewing_by text,                  -- the process fetching a new token now, if any
    renewing_until double precision,   -- its lease: another may take over after it
    updated_at double precision NOT NULL
);
CREATE TABLE token_keys (
    id text PRIMARY KEY,               -- personio_tokens.key_id; deleted with its token
    key bytea NOT NULL,
    created_at double precision NOT NULL
);
