-- mail queue, job-alert subscriptions, first-seen positions, shared turns
-- Numbered like the SQLite steps: there, 2 added the form nonces, which PostgreSQL had
-- from its first version. So version 3 means the same schema on both databases.
CREATE TABLE subscriptions (
    id bigserial PRIMARY KEY,
    salt text NOT NULL UNIQUE,         -- random: names the key, signs the links (links.py)
    address_sealed bytea NOT NULL,     -- sealed with the subscription's own key
    address_hash text NOT NULL,        -- keyed hash, for the per-address limits
    filters text NOT NULL,             -- Filters.to_json()
    language text NOT NULL,
    created_at double precision NOT NULL,
    confirmed_at double precision,     -- the consent time; NULL until confirmed
    digest_mark double precision NOT NULL DEFAULT 0,
    last_confirm_at double precision   -- when a confirmation mail was last queued
);
CREATE UNIQUE INDEX subscriptions_address ON subscriptions (address_hash, filters, language);
CREATE TABLE subscription_keys (
    salt text PRIMARY KEY,             -- the subscription's; deleted with it (shredding)
    key bytea NOT NULL,
    created_at double precision NOT NULL
);
CREATE TABLE mail_queue (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    subscription_id bigint REFERENCES subscriptions (id) ON DELETE CASCADE,
    address_hash text,                 -- a subscription's, for its per-day limit; kept a day
    language text NOT NULL,
    params text NOT NULL,              -- JSON, never personal
    dedupe_key text UNIQUE,
    status text NOT NULL,              -- pending, sent, failed
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at double precision,
    lease_owner text,
    lease_until double precision,
    last_error text,
    created_at double precision NOT NULL,
    done_at double precision
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_at, id);
CREATE INDEX mail_queue_kind ON mail_queue (kind, created_at);
CREATE INDEX mail_queue_address ON mail_queue (address_hash, created_at);
CREATE INDEX mail_queue_subscription ON mail_queue (subscription_id);
CREATE TABLE positions_seen (
    position_id bigint PRIMARY KEY,
    first_seen_at double precision NOT NULL
);
CREATE TABLE turns (
    name text PRIMARY KEY,
    next_at double precision NOT NULL  -- the database's clock
);
