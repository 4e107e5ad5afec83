-- sealed document chunks kept in their rows, not in TOAST
-- A sealed chunk is ciphertext: it cannot be compressed (001 already set STORAGE EXTERNAL,
-- so PostgreSQL does not try). A 1 MiB chunk was still cut into some 525 TOAST rows of
-- 2 KB, each inserted and indexed on its own. Chunks are now sealed 8,000 bytes at a time
-- (careers/db/chunks.py), and a row of up to a page stays in the table itself, written by
-- COPY in batches with one index entry a chunk. Chunks stored before keep their TOAST rows
-- and read back as before.
ALTER TABLE document_chunks SET (toast_tuple_target = 8160);
