"""The storage layer: one database object per process, over SQLite or PostgreSQL.

`open_database` (database.py) opens the connector a deployment's CAREERS_DATABASE_URL names
and hands out what is stored: the outbox (outbox.py), the mail store (mail.py), the feed
copies every host shares (feeds.py) and rate limiters over the shared rate log
(ratelimit.py). Each contract is written once over the connector; its statements live by
name in `queries/*.sql` (portable first, a file per dialect only where the SQL differs), the
schema in `schema/<dialect>/NNN_name.sql`, applied by one runner (migrate.py).
"""
