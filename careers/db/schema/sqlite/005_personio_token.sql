-- the Personio v2 token every process shares, sealed (keys in careers-token-keys.db)
CREATE TABLE personio_tokens (
    client TEXT PRIMARY KEY,           -- SHA-256 of the API URL and the OAuth client id
    generation INTEGER NOT NULL DEFAULT 0,  -- grows with every token stored
    token BLOB,                        -- sealed with the key named key_id
    key_id TEXT,                       -- client:generation:fetcher
    expires_at REAL,
    renew_at REAL,                     -- a little before expires_at
    renewing_by TEXT,                  -- the process fetching a new token now, if any
    renewing_until REAL,               -- its lease: another may take over after it
    updated_at REAL NOT NULL
);
