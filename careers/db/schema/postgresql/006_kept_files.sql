-- kept files: the checked documents of a refused post, for its resubmission, for an hour
CREATE TABLE kept_files (
    id bigserial PRIMARY KEY,
    batch text NOT NULL,               -- random, named by the signed reference in the new form
    seq integer NOT NULL,              -- the file's place in its batch ("Remove" names it)
    category text NOT NULL,
    filename text NOT NULL,            -- sealed with the batch's key (sealing.seal_name)
    size bigint NOT NULL,
    created_at double precision NOT NULL,
    UNIQUE (batch, seq)
);
CREATE INDEX kept_files_created ON kept_files (created_at);
CREATE TABLE kept_chunks (
    file_id bigint NOT NULL REFERENCES kept_files (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    data bytea NOT NULL,               -- sealed like document_chunks, with the batch's key
    PRIMARY KEY (file_id, seq)
);
ALTER TABLE kept_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
