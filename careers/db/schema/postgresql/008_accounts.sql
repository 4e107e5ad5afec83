-- the Personio account of each application (CAREERS_ACCOUNTS_FILE); '' = the first
ALTER TABLE applications ADD COLUMN account text NOT NULL DEFAULT '';
CREATE INDEX applications_account_due ON applications (account, status, next_attempt_at, id);
