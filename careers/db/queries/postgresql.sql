-- PostgreSQL's own statements (careers/db/queries.py): those that differ from
-- portable.sql. Several hosts share the database: claims skip rows another host has
-- locked, rate windows and turns run on the database's clock (hosts' clocks may differ:
-- `:now` is ignored there), document bytes live in sealed chunks, keys in key tables.

-- name: advisory_lock
-- Our advisory locks live in one class of their own, 1128354373 ("CARE").
SELECT pg_advisory_xact_lock(1128354373::int4, hashtext(:name));

-- name: document_insert
INSERT INTO documents (application_id, category, filename, size)
VALUES (:application_id, :category, :filename, :size)
RETURNING id;

-- name: application_claim
SELECT * FROM applications
WHERE status = 'pending' AND next_attempt_at <= :now
  AND (lease_until IS NULL OR lease_until < :now)
  AND (account = :account OR (:first AND account = ''))
ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED;

-- name: application_payload
SELECT public_id, payload, position_id, language FROM applications WHERE id = :id FOR UPDATE;

-- name: application_public_id
SELECT public_id FROM applications WHERE id = :id FOR UPDATE;

-- name: document_names
SELECT application_id, category, filename FROM documents
WHERE application_id = ANY(:ids) ORDER BY id;

-- name: document_owner
SELECT a.public_id FROM documents d JOIN applications a ON a.id = d.application_id
WHERE d.id = :id;

-- name: chunk_layout
SELECT seq, sum(length(data)) AS n FROM document_chunks WHERE document_id = :id
GROUP BY seq ORDER BY seq;

-- name: chunk
SELECT string_agg(data, ''::bytea ORDER BY piece) AS data FROM document_chunks
WHERE document_id = :id AND seq = :seq GROUP BY seq;

-- name: application_key_insert
INSERT INTO application_keys (public_id, key, created_at) VALUES (:id, :key, :now);

-- name: application_key
SELECT key FROM application_keys WHERE public_id = :id;

-- name: application_keys_of
SELECT public_id AS id, key FROM application_keys WHERE public_id = ANY(:ids);

-- name: application_keys_delete
DELETE FROM application_keys WHERE public_id = ANY(:ids);

-- name: application_keys_prune
-- Keys of purged applications, and of any whose delivery ended before its key went.
DELETE FROM application_keys k WHERE NOT EXISTS (
    SELECT 1 FROM applications a WHERE a.public_id = k.public_id AND a.payload IS NOT NULL);

-- name: subscription_key_insert
INSERT INTO subscription_keys (salt, key, created_at) VALUES (:id, :key, :now);

-- name: subscription_key
SELECT key FROM subscription_keys WHERE salt = :id;

-- name: subscription_keys_of
SELECT salt AS id, key FROM subscription_keys WHERE salt = ANY(:ids);

-- name: subscription_keys_delete
DELETE FROM subscription_keys WHERE salt = ANY(:ids);

-- name: subscription_keys_prune
DELETE FROM subscription_keys k WHERE NOT EXISTS (
    SELECT 1 FROM subscriptions s WHERE s.salt = k.salt);

-- name: token_key_insert
INSERT INTO token_keys (id, key, created_at) VALUES (:id, :key, :now);

-- name: token_key
SELECT key FROM token_keys WHERE id = :id;

-- name: token_keys_of
SELECT id, key FROM token_keys WHERE id = ANY(:ids);

-- name: token_keys_delete
DELETE FROM token_keys WHERE id = ANY(:ids);

-- name: token_keys_prune
DELETE FROM token_keys k WHERE NOT EXISTS (
    SELECT 1 FROM personio_tokens t WHERE t.key_id = k.id);

-- name: subscription_find
-- FOR UPDATE: not unsubscribed under our feet.
SELECT id, salt, confirmed_at, last_confirm_at FROM subscriptions
WHERE address_hash = :address_hash AND filters = :filters AND language = :language
FOR UPDATE;

-- name: rate_window
-- One statement with the database's clock read inside it: asked twice before every
-- application's body is read, so it costs one round trip.
WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)
SELECT clock.now, count(r.at) AS n, min(r.at) AS oldest FROM clock
LEFT JOIN rate_log r ON r.key = :key AND r.at > clock.now - :window
GROUP BY clock.now;

-- name: rate_take
-- Expired entries go, the window is counted and a slot is taken if there is room: one
-- statement, one clock reading (a CTE used twice is computed once). Run after
-- advisory_lock on the key, in the same transaction: one taker per key on every host.
WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t),
gone AS (DELETE FROM rate_log WHERE key = :key AND at <= (SELECT t FROM now) - :window),
win AS (SELECT count(*) AS n, min(at) AS oldest FROM rate_log
        WHERE key = :key AND at > (SELECT t FROM now) - :window),
taken AS (INSERT INTO rate_log (key, at) SELECT :key, t FROM now, win
          WHERE win.n < :limit RETURNING at)
SELECT win.n, win.oldest, now.t AS now FROM win, now;

-- name: rates_forget_old
DELETE FROM rate_log WHERE at < extract(epoch FROM clock_timestamp())::float8 - 86400;

-- name: turn_take
-- A racing caller waits on the row (or its key) until the winner commits, then finds
-- next_at in the future.
INSERT INTO turns (name, next_at)
VALUES (:name, extract(epoch FROM clock_timestamp())::float8 + :interval)
ON CONFLICT (name) DO UPDATE SET next_at = EXCLUDED.next_at
WHERE turns.next_at <= extract(epoch FROM clock_timestamp())::float8
RETURNING name;

-- name: position_note
-- Hosts noting at once agree on whether this is the seeding run (advisory_lock first).
INSERT INTO positions_seen (position_id, first_seen_at) VALUES (:id, :at)
ON CONFLICT (position_id) DO NOTHING;

-- name: mail_claim
UPDATE mail_queue SET lease_owner = :owner, lease_until = :until, attempts = attempts + 1
WHERE id = (SELECT id FROM mail_queue
            WHERE status = 'pending' AND next_attempt_at <= :now
              AND (lease_until IS NULL OR lease_until < :now)
            ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING *;

-- name: mail_known_keys
SELECT dedupe_key FROM mail_queue WHERE dedupe_key = ANY(:keys);

-- == feed copies (careers/db/feeds.py) ==================================================

-- name: feed_copy_save
INSERT INTO feed_copies (language, body, etag, last_modified, fetched_at, version)
VALUES (:language, :body, :etag, :last_modified, :fetched_at, :version)
ON CONFLICT (language) DO UPDATE
SET body = EXCLUDED.body, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
    fetched_at = EXCLUDED.fetched_at, version = EXCLUDED.version
WHERE feed_copies.fetched_at <= EXCLUDED.fetched_at;

-- name: feed_copy_touch
-- Personio confirmed our copy (304): only the same version gets the newer time.
UPDATE feed_copies SET fetched_at = GREATEST(fetched_at, :fetched_at)
WHERE language = :language AND version = :version;

-- name: feed_copy
SELECT * FROM feed_copies WHERE language = :language;

-- name: kept_insert
INSERT INTO kept_files (batch, seq, category, filename, size, created_at)
VALUES (:batch, :seq, :category, :filename, :size, :now)
RETURNING id;

-- name: kept_chunk_layout
SELECT seq, sum(length(data)) AS n FROM kept_chunks WHERE file_id = :id
GROUP BY seq ORDER BY seq;

-- name: kept_chunk
SELECT string_agg(data, ''::bytea ORDER BY piece) AS data FROM kept_chunks
WHERE file_id = :id AND seq = :seq GROUP BY seq;
