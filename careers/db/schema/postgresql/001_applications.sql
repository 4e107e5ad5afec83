-- applications, documents and their bytes, keys, form nonces, rate log, feed copies
CREATE TABLE applications (
    id bigserial PRIMARY KEY,
    public_id text NOT NULL UNIQUE,
    position_id bigint NOT NULL,
    language text NOT NULL,
    status text NOT NULL,
    payload bytea,                     -- personal data, sealed (sealing.py); NULL once done
    attempts integer NOT NULL DEFAULT 0,
    create_attempts integer NOT NULL DEFAULT 0,
    next_attempt_at double precision,  -- epoch seconds, like every time below
    lease_owner text,
    lease_until double precision,
    last_reason text,
    last_detail text,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    delivered_at double precision
);
CREATE INDEX applications_due ON applications (status, next_attempt_at, id);
CREATE TABLE documents (
    id bigserial PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    category text NOT NULL,
    filename text NOT NULL,
    size bigint NOT NULL,
    uuid text                          -- Personio's, once uploaded
);
CREATE INDEX documents_application ON documents (application_id);
CREATE TABLE document_chunks (
    document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (document_id, seq)
);
-- Uploads are mostly compressed already (PDF, DOCX, JPEG): store them out of line as they are.
ALTER TABLE document_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE application_keys (
    public_id text PRIMARY KEY,        -- the application's; deleted on delivery (shredding)
    key bytea NOT NULL,
    created_at double precision NOT NULL
);
CREATE TABLE submissions (
    nonce text PRIMARY KEY,            -- one rendering of the form
    public_id text NOT NULL,
    fingerprint text NOT NULL,         -- keyed hash of what was sent: same post or another
    created_at double precision NOT NULL
);
CREATE INDEX submissions_created ON submissions (created_at);
CREATE TABLE rate_log (
    key text NOT NULL,
    at double precision NOT NULL       -- the database's clock
);
CREATE INDEX rate_log_key ON rate_log (key, at);
CREATE TABLE feed_copies (
    language text PRIMARY KEY,
    body bytea NOT NULL,
    etag text,
    last_modified text,
    fetched_at double precision NOT NULL,
    version text
);
