-- sealed chunks stored in pieces small enough to stay in their table's pages
-- A sealed MiB used to be one bytea, which PostgreSQL cut into some 525 rows of its TOAST
-- table, each with an entry in the TOAST index. Each sealed chunk is now written as pieces
-- of at most 8,000 bytes (chunks.py, PIECE_BYTES), one row each; toast_tuple_target lets
-- such a row stay in its page instead of being toasted. Storing a 2 MB application costs
-- the database about 18 % less CPU (docs/benchmarks.md, P3; bench/bench_store.py). A chunk
-- is still sealed and bound to its place as a whole; its pieces are where its bytes are kept.
-- Chunks written before this step are a single piece 0 and read back as before.
ALTER TABLE document_chunks ADD COLUMN piece integer NOT NULL DEFAULT 0;
ALTER TABLE document_chunks DROP CONSTRAINT document_chunks_pkey;
ALTER TABLE document_chunks ADD PRIMARY KEY (document_id, seq, piece);
ALTER TABLE document_chunks SET (toast_tuple_target = 8160);
ALTER TABLE kept_chunks ADD COLUMN piece integer NOT NULL DEFAULT 0;
ALTER TABLE kept_chunks DROP CONSTRAINT kept_chunks_pkey;
ALTER TABLE kept_chunks ADD PRIMARY KEY (file_id, seq, piece);
ALTER TABLE kept_chunks SET (toast_tuple_target = 8160);
