-- applications, documents and the shared rate log
-- The first release made this without numbering it: its database has user_version 0 and
-- is recognised by its tables (sqlite.py).
CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    position_id INTEGER NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    payload BLOB,                      -- personal data, sealed (sealing.py); NULL once done
    attempts INTEGER NOT NULL DEFAULT 0,
    create_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    lease_owner TEXT,
    lease_until REAL,
    last_reason TEXT,
    last_detail TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX applications_due ON applications (status, next_attempt_at);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    filename TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    uuid TEXT
);
CREATE INDEX documents_application ON documents (application_id);
CREATE TABLE rate_log (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX rate_log_key ON rate_log (key, at);
