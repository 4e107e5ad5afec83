-- kept files: the checked documents of a refused post, for its resubmission, for an hour
CREATE TABLE kept_files (
    id INTEGER PRIMARY KEY,
    batch TEXT NOT NULL,               -- random, named by the signed reference in the new form
    seq INTEGER NOT NULL,              -- the file's place in its batch ("Remove" names it)
    category TEXT NOT NULL,
    filename TEXT NOT NULL,            -- sealed with the batch's key (sealing.seal_name)
    size INTEGER NOT NULL,
    path TEXT NOT NULL,                -- under the spool's kept/, like stored/ for the outbox
    created_at REAL NOT NULL,
    UNIQUE (batch, seq)
);
CREATE INDEX kept_files_created ON kept_files (created_at);
