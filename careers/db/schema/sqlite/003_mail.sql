-- mail queue, job-alert subscriptions, first-seen positions, shared turns
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    salt TEXT NOT NULL UNIQUE,         -- random: names the key, signs the links (links.py)
    address_sealed BLOB NOT NULL,      -- sealed with the subscription's own key
    address_hash TEXT NOT NULL,        -- keyed hash, for the per-address limits
    filters TEXT NOT NULL,             -- Filters.to_json()
    language TEXT NOT NULL,
    created_at REAL NOT NULL,
    confirmed_at REAL,                 -- the consent time; NULL until confirmed
    digest_mark REAL NOT NULL DEFAULT 0,
    last_confirm_at REAL               -- when a confirmation mail was last queued
);
CREATE UNIQUE INDEX subscriptions_address ON subscriptions (address_hash, filters, language);
CREATE TABLE mail_queue (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subscription_id INTEGER REFERENCES subscriptions (id) ON DELETE CASCADE,
    address_hash TEXT,                 -- a subscription's, for its per-day limit; kept a day
    language TEXT NOT NULL,
    params TEXT NOT NULL,              -- JSON, never personal
    dedupe_key TEXT UNIQUE,
    status TEXT NOT NULL,              -- pending, sent, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    lease_owner TEXT,
    lease_until REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_at);
CREATE INDEX mail_queue_kind ON mail_queue (kind, created_at);
CREATE INDEX mail_queue_address ON mail_queue (address_hash, created_at);
CREATE INDEX mail_queue_subscription ON mail_queue (subscription_id);
CREATE TABLE positions_seen (position_id INTEGER PRIMARY KEY, first_seen_at REAL NOT NULL);
CREATE TABLE turns (name TEXT PRIMARY KEY, next_at REAL NOT NULL);
