-- used form nonces: one form, one application
CREATE TABLE submissions (
    nonce TEXT PRIMARY KEY,            -- one rendering of the form
    public_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,         -- keyed hash of what was sent: same post or another
    created_at REAL NOT NULL
);
