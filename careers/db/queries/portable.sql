-- Statements both databases run alike, by name (careers/db/queries.py). Parameters are
-- `:name`; times are epoch seconds of the process's clock unless a dialect's file says
-- otherwise. Statuses are those of applications.rules.Status and mail.store.MailStatus.

-- == the outbox (careers/db/outbox.py) ==================================================

-- name: submission
SELECT public_id, fingerprint FROM submissions WHERE nonce = :nonce;

-- name: submission_insert
INSERT INTO submissions (nonce, public_id, fingerprint, created_at)
VALUES (:nonce, :public_id, :fingerprint, :now)
ON CONFLICT (nonce) DO NOTHING RETURNING nonce;

-- name: application_insert
-- `account`: a key of CAREERS_ACCOUNTS_FILE; '' for the implicit account of the
-- CAREERS_PERSONIO_* variables, as rows from before step 008 have.
INSERT INTO applications (public_id, position_id, language, account, status, payload,
                          next_attempt_at, created_at, updated_at, funnel_channel)
VALUES (:public_id, :position_id, :language, :account, 'pending', :payload, :now, :now, :now,
        :funnel_channel)
RETURNING id;

-- name: application_park_unreadable
-- Its key is gone (or the payload does not open with it): nobody can read it any more.
UPDATE applications SET status = 'parked', next_attempt_at = NULL, lease_owner = NULL,
       lease_until = NULL, last_reason = 'payload_unreadable', updated_at = :now
WHERE id = :id;

-- name: application_lease
UPDATE applications SET lease_owner = :owner, lease_until = :until,
       attempts = attempts + 1, updated_at = :now
WHERE id = :id;

-- name: application_extend_lease
UPDATE applications SET lease_until = :until
WHERE id = :id AND lease_owner = :owner AND status = 'pending';

-- name: documents_of
SELECT * FROM documents WHERE application_id = :id ORDER BY id;

-- name: document_uploaded
UPDATE documents SET uuid = :uuid WHERE id = :id;

-- name: documents_forget_uploads
UPDATE documents SET uuid = NULL WHERE application_id = :id;

-- name: application_set_payload
UPDATE applications SET payload = :payload WHERE id = :id;

-- name: application_count_create_attempt
UPDATE applications SET create_attempts = create_attempts + 1 WHERE id = :id;

-- name: documents_delete
DELETE FROM documents WHERE application_id = :id;

-- name: application_delivered
-- GDPR: Personio has it now; only the receipt stays (docs/applications.md). The first
-- outcome stands.
UPDATE applications SET status = :outcome, payload = NULL, delivered_at = :now,
       updated_at = :now, lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL,
       last_reason = NULL, last_detail = NULL
WHERE id = :id AND status = 'pending'
RETURNING position_id, language, funnel_channel;

-- name: application_retry_later
UPDATE applications SET next_attempt_at = :at, lease_owner = NULL, lease_until = NULL,
       last_reason = :reason, last_detail = :detail, updated_at = :now
WHERE id = :id AND status = 'pending';

-- name: application_park
UPDATE applications SET status = 'parked', next_attempt_at = NULL, lease_owner = NULL,
       lease_until = NULL, last_reason = :reason, last_detail = :detail, updated_at = :now
WHERE id = :id AND status = 'pending';  -- never a delivered one

-- name: application_requeue
-- A pending application some worker holds is left alone: taking its lease away would let
-- a second worker deliver it at the same time.
UPDATE applications SET status = 'pending', next_attempt_at = :now, lease_owner = NULL,
       lease_until = NULL, updated_at = :now
WHERE id = :id AND (status = 'parked'
                    OR (status = 'pending' AND (lease_until IS NULL OR lease_until < :now)));

-- name: summary_by_public_id
SELECT id, public_id, position_id, language, account, status, attempts, created_at, updated_at,
       delivered_at, next_attempt_at, last_reason, last_detail
FROM applications WHERE public_id = :public_id;

-- name: summary_by_id
SELECT id, public_id, position_id, language, account, status, attempts, created_at, updated_at,
       delivered_at, next_attempt_at, last_reason, last_detail
FROM applications WHERE id = :id;

-- name: summaries
SELECT id, public_id, position_id, language, account, status, attempts, created_at, updated_at,
       delivered_at, next_attempt_at, last_reason, last_detail
FROM applications ORDER BY id DESC LIMIT :limit;

-- name: summaries_with_status
SELECT id, public_id, position_id, language, account, status, attempts, created_at, updated_at,
       delivered_at, next_attempt_at, last_reason, last_detail
FROM applications WHERE status = :status ORDER BY id DESC LIMIT :limit;

-- name: summary_oldest_pending
-- Ids grow with arrival: the smallest pending id has waited longest.
SELECT id, public_id, position_id, language, account, status, attempts, created_at, updated_at,
       delivered_at, next_attempt_at, last_reason, last_detail
FROM applications WHERE id = (SELECT MIN(id) FROM applications WHERE status = 'pending');

-- name: application_counts
SELECT status, COUNT(*) AS n FROM applications GROUP BY status;

-- name: documents_doomed_count
-- The documents `applications_purge` is about to delete (with their applications).
SELECT COUNT(*) AS n FROM documents d JOIN applications a ON a.id = d.application_id
WHERE (a.status = 'parked' AND a.updated_at < :parked_before)
   OR (a.status IN ('delivered', 'already_applied') AND a.updated_at < :receipts_before);

-- name: applications_purge
DELETE FROM applications
WHERE (status = 'parked' AND updated_at < :parked_before)
   OR (status IN ('delivered', 'already_applied') AND updated_at < :receipts_before)
RETURNING public_id;

-- name: submissions_forget
-- Used form nonces outlive the longest-lived form token by a day.
DELETE FROM submissions WHERE created_at < :before;

-- name: application_keys_needed
SELECT public_id AS id FROM applications WHERE payload IS NOT NULL;

-- == shared rate limits (careers/db/ratelimit.py) =======================================

-- name: rate_window
-- How full a key's window is, and when its oldest entry leaves it.
SELECT :now AS now, COUNT(*) AS n, MIN(at) AS oldest FROM rate_log
WHERE key = :key AND at > :now - :window;

-- name: rates_forget_old
-- Per-client counters of clients long gone (rate keys are hashes).
DELETE FROM rate_log WHERE at < :now - 86400;

-- == the mail store (careers/db/mail.py) ================================================

-- name: subscription_find
SELECT id, salt, confirmed_at, last_confirm_at FROM subscriptions
WHERE address_hash = :address_hash AND filters = :filters AND language = :language;

-- name: confirmations_since
SELECT COUNT(*) AS n FROM mail_queue
WHERE kind = 'confirm' AND address_hash = :address_hash AND created_at > :since;

-- name: subscription_insert
INSERT INTO subscriptions (salt, address_sealed, address_hash, filters, language, created_at)
VALUES (:salt, :sealed, :address_hash, :filters, :language, :now)
RETURNING id;

-- name: subscription_reseal
UPDATE subscriptions SET address_sealed = :sealed WHERE id = :id;

-- name: subscription_asked
UPDATE subscriptions SET last_confirm_at = :now WHERE id = :id;

-- name: subscription
SELECT * FROM subscriptions WHERE id = :id;

-- name: subscription_confirm
-- Only the first confirmation counts: a second click moves neither the consent time nor
-- the mark (which would hide the jobs found in between).
UPDATE subscriptions SET confirmed_at = :now, digest_mark = :now
WHERE id = :id AND confirmed_at IS NULL;

-- name: subscription_exists
SELECT 1 AS found FROM subscriptions WHERE id = :id;

-- name: subscription_delete
-- Its queued mails go with it (ON DELETE CASCADE).
DELETE FROM subscriptions WHERE id = :id RETURNING salt;

-- name: subscriptions_confirmed
SELECT * FROM subscriptions WHERE confirmed_at IS NOT NULL ORDER BY id;

-- name: subscription_set_mark
UPDATE subscriptions SET digest_mark = :mark WHERE id = :id;

-- name: subscriptions_expire
DELETE FROM subscriptions WHERE confirmed_at IS NULL AND created_at < :before RETURNING salt;

-- name: subscription_salts
SELECT salt FROM subscriptions;

-- name: subscription_delete_salt
DELETE FROM subscriptions WHERE salt = :salt;

-- name: subscription_keys_needed
SELECT salt AS id FROM subscriptions;

-- name: subscription_count
SELECT COUNT(confirmed_at) AS confirmed, COUNT(*) - COUNT(confirmed_at) AS unconfirmed
FROM subscriptions;

-- name: positions_seeded
SELECT 1 AS found FROM positions_seen LIMIT 1;

-- name: position_note
INSERT INTO positions_seen (position_id, first_seen_at) VALUES (:id, :at)
ON CONFLICT (position_id) DO NOTHING;

-- name: positions_seen
SELECT position_id, first_seen_at FROM positions_seen;

-- name: mail_insert
-- Due now; a subscription's mail carries its address hash for the daily limit.
INSERT INTO mail_queue (kind, subscription_id, address_hash, language, params, dedupe_key,
                        status, next_attempt_at, created_at)
VALUES (:kind, :subscription_id,
        (SELECT address_hash FROM subscriptions WHERE id = :subscription_id),
        :language, :params, :dedupe_key, 'pending', :now, :now)
ON CONFLICT (dedupe_key) DO NOTHING RETURNING id;

-- name: mail_finish
-- The first outcome stands; what the mail was about goes (the address hash stays for the
-- day the per-address limit looks back; mail_forget_hashes clears it).
UPDATE mail_queue SET status = :status, done_at = :now, subscription_id = NULL,
       params = '{}', last_error = :error, next_attempt_at = NULL, lease_owner = NULL,
       lease_until = NULL
WHERE id = :id AND status = 'pending';

-- name: mail_retry
UPDATE mail_queue SET next_attempt_at = :at, last_error = :error, lease_owner = NULL,
       lease_until = NULL
WHERE id = :id AND status = 'pending';

-- name: mail_status
SELECT status FROM mail_queue WHERE dedupe_key = :dedupe_key;

-- name: mail_counts
SELECT status, COUNT(*) AS n FROM mail_queue GROUP BY status;

-- name: mail_count_since
SELECT COUNT(*) AS n FROM mail_queue WHERE kind = :kind AND created_at >= :since;

-- name: mail_purge
DELETE FROM mail_queue WHERE status IN ('sent', 'failed') AND done_at < :before;

-- name: mail_forget_hashes
-- The per-address limit looks back one day; older entries need no address hash.
UPDATE mail_queue SET address_hash = NULL
WHERE address_hash IS NOT NULL AND created_at < :before;

-- == kept files (careers/db/kept.py) ===================================================

-- name: kept_files_of
SELECT * FROM kept_files WHERE batch = :batch AND created_at >= :since ORDER BY seq;

-- name: kept_forget
DELETE FROM kept_files WHERE batch = :batch;

-- name: kept_expired
SELECT * FROM kept_files WHERE created_at < :before;

-- name: kept_sweep
DELETE FROM kept_files WHERE created_at < :before;

-- == funnel counters (careers/db/funnel.py) =============================================

-- name: funnel_add
-- Additive: every process and host adds its own deltas, none overwrites another's.
INSERT INTO funnel_counts (day, position_id, channel, language, step, n)
VALUES (:day, :position_id, :channel, :language, :step, :n)
ON CONFLICT (day, position_id, channel, language, step)
DO UPDATE SET n = funnel_counts.n + excluded.n;

-- name: funnel_since
SELECT position_id, channel, language, step, SUM(n) AS n FROM funnel_counts
WHERE day >= :since AND day <= :until
GROUP BY position_id, channel, language, step
ORDER BY position_id, channel, language, step;

-- == the shared Personio token (careers/db/tokens.py) ====================================

-- name: personio_token
SELECT client, generation, token, key_id, renew_at, renewing_by, renewing_until
FROM personio_tokens WHERE client = :client;

-- name: personio_token_ensure
INSERT INTO personio_tokens (client, updated_at) VALUES (:client, :now)
ON CONFLICT (client) DO NOTHING;

-- name: personio_token_lease
-- Under the client's lock: this process fetches the next token; the others wait for it.
UPDATE personio_tokens SET renewing_by = :owner, renewing_until = :until, updated_at = :now
WHERE client = :client;

-- name: personio_token_unlease
UPDATE personio_tokens SET renewing_by = NULL, renewing_until = NULL, updated_at = :now
WHERE client = :client AND renewing_by = :owner;

-- name: personio_token_store
-- Only while the lease is still ours: a process that took over after it ran out stores its own.
UPDATE personio_tokens
SET token = :token, key_id = :key_id, generation = :generation, expires_at = :expires_at, renew_at = :renew_at,
    renewing_by = NULL, renewing_until = NULL, updated_at = :now
WHERE client = :client AND renewing_by = :owner;

-- name: personio_token_refused
-- Personio answered 401 to this token: forget it, unless a newer one is stored already (two
-- processes refused the same token cause one fetch, not two). Each token has a key of its own.
UPDATE personio_tokens
SET token = NULL, key_id = NULL, expires_at = NULL, renew_at = NULL, updated_at = :now
WHERE client = :client AND key_id = :key_id;

-- name: token_keys_needed
SELECT key_id AS id FROM personio_tokens WHERE key_id IS NOT NULL;
