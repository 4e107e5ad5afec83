-- SQLite's own statements (careers/db/queries.py): those that differ from portable.sql.
-- SQLite serialises writers with its write lock (every write is BEGIN IMMEDIATE), so a
-- plain SELECT inside a write transaction already claims; documents are spool files.

-- name: document_insert
INSERT INTO documents (application_id, category, filename, path, size)
VALUES (:application_id, :category, :filename, :path, :size)
RETURNING id;

-- name: application_claim
SELECT * FROM applications
WHERE status = 'pending' AND next_attempt_at <= :now
  AND (lease_until IS NULL OR lease_until < :now)
  AND (account = :account OR (:first AND account = ''))
ORDER BY next_attempt_at, id LIMIT 1;

-- name: applications_leased_on_host
SELECT * FROM applications WHERE status = 'pending' AND lease_owner LIKE :pattern
  AND (account = :account OR (:first AND account = '')) ORDER BY id;

-- name: application_payload
SELECT public_id, payload, position_id, language FROM applications WHERE id = :id;

-- name: application_public_id
SELECT public_id FROM applications WHERE id = :id;

-- name: document_paths
SELECT path FROM documents WHERE application_id = :id;

-- name: document_paths_doomed
SELECT d.path FROM documents d JOIN applications a ON a.id = d.application_id
WHERE (a.status = 'parked' AND a.updated_at < :parked_before)
   OR (a.status IN ('delivered', 'already_applied') AND a.updated_at < :receipts_before);

-- name: document_paths_all
SELECT path FROM documents;

-- name: document_names
SELECT application_id, category, filename FROM documents
WHERE application_id IN (SELECT value FROM json_each(:ids)) ORDER BY id;

-- name: rates_forget
DELETE FROM rate_log WHERE key = :key AND at <= :now - :window;

-- name: rate_log_insert
INSERT INTO rate_log (key, at) VALUES (:key, :now);

-- name: turn_take
INSERT INTO turns (name, next_at) VALUES (:name, :now + :interval)
ON CONFLICT (name) DO UPDATE SET next_at = excluded.next_at WHERE turns.next_at <= :now
RETURNING name;

-- name: mail_claim
UPDATE mail_queue SET lease_owner = :owner, lease_until = :until, attempts = attempts + 1
WHERE id = (SELECT id FROM mail_queue
            WHERE status = 'pending' AND next_attempt_at <= :now
              AND (lease_until IS NULL OR lease_until < :now)
            ORDER BY next_attempt_at, id LIMIT 1)
RETURNING *;

-- name: mail_known_keys
SELECT dedupe_key FROM mail_queue WHERE dedupe_key IN (SELECT value FROM json_each(:keys));

-- name: kept_insert
INSERT INTO kept_files (batch, seq, category, filename, size, path, created_at)
VALUES (:batch, :seq, :category, :filename, :size, :path, :now)
RETURNING id;

-- name: kept_paths_all
SELECT path FROM kept_files;
