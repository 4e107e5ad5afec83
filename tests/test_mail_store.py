"""The mail store contract (careers/mail/store.py), run against SQLite and PostgreSQL.

Every test named without a store runs on both: what the mail worker and the job-alert pages
may rely on, whichever database is behind the outbox. Times come from a test clock (both
stores take `clock=`), except PostgreSQL's turns, which run on the database's own clock:
those tests use short real intervals, or long ones that cannot pass during the test.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from careers.db import database, migrate
from careers.db.database import open_database
from careers.db.postgresql import OUR_TABLES
from careers.mail.alert_links import address_hash
from careers.mail.store import Filters, MailKind, SubscribeOutcome
from careers.store_errors import SchemaMismatch

from .apps import SECRET
from .databases import Backend
from .servers import eventually

QUEUED, SUPPRESSED = SubscribeOutcome.QUEUED, SubscribeOutcome.SUPPRESSED
ENGINEERING = Filters({"department": ("Engineering",)})
SALES = Filters({"department": ("Sales",)}, q="berlin")
ADDRESS = "grace.subscriber.4417@example.com"
HOUR, DAY = 3600.0, 86400.0


# -- the two databases (tests/databases.py) -----------------------------------------------


@pytest.fixture
def store_kind() -> str:
    return "mail"


@pytest.fixture
def store(backend: Backend) -> Any:
    return backend.store


def ask(
    store: Any,
    address: str = ADDRESS,
    filters: Filters = ENGINEERING,
    language: str = "en",
    *,
    resend_after: float = 6 * HOUR,
    per_day: int = 5,
) -> SubscribeOutcome:
    outcome: SubscribeOutcome = store.request_subscription(
        address,
        address_hash(SECRET, address),
        filters,
        language,
        resend_after=resend_after,
        per_address_per_day=per_day,
    )
    return outcome


def only_subscription(store: Any) -> Any:
    """The one subscription made so far (ids start at 1 in a fresh database)."""
    found = [s for s in (store.subscription(i) for i in range(1, 50)) if s is not None]
    assert len(found) == 1, found
    return found[0]


def drain(store: Any, owner: str = "host-a:1:w") -> list[Any]:
    """Claim every due mail."""
    claimed = []
    while (item := store.claim_mail(owner)) is not None:
        claimed.append(item)
    return claimed


def in_threads(count: int, work: Callable[[int], Any], done: Callable[[], None]) -> list[Any]:
    """Run `work(i)` in `count` threads released at once; their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # handed back to the test
            results[i] = exc
        finally:
            done()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


# -- asking for a job alert ----------------------------------------------------------------


def test_a_new_request_seals_the_address_and_queues_one_confirmation(backend, store, clock):
    assert store.lease_seconds == 120.0
    assert ask(store, filters=SALES, language="de") == QUEUED
    sub = only_subscription(store)
    assert (sub.address, sub.filters, sub.language) == (ADDRESS, SALES, "de")
    assert (sub.created_at, sub.confirmed_at, sub.digest_mark) == (clock(), None, 0.0)
    assert len(sub.salt) >= 32
    assert store.subscription_count() == {"confirmed": 0, "unconfirmed": 1}
    assert backend.key_count() == 1
    [mail] = drain(store)
    assert (mail.kind, mail.subscription_id, mail.language, mail.params) == (
        MailKind.CONFIRM,
        sub.id,
        "de",
        {},
    )
    assert (mail.attempts, mail.created_at) == (1, clock())


def test_asking_again_soon_queues_nothing_and_later_renews_the_same_subscription(store, clock):
    assert ask(store) == QUEUED
    first = only_subscription(store)
    clock.advance(HOUR)
    assert ask(store) == SUPPRESSED  # within resend_after: no second mail
    assert store.mail_counts() == {"pending": 1, "sent": 0, "failed": 0}
    clock.advance(5 * HOUR + 1)
    assert ask(store) == QUEUED
    again = only_subscription(store)
    assert (again.id, again.salt, again.created_at) == (first.id, first.salt, first.created_at)
    assert [m.subscription_id for m in drain(store)] == [first.id, first.id]


def test_a_confirmed_subscription_asked_for_again_queues_nothing(store, clock):
    assert ask(store) == QUEUED
    sub = only_subscription(store)
    [mail] = drain(store)
    store.mail_sent(mail.id)
    assert store.confirm(sub.id)
    clock.advance(2 * DAY)
    assert ask(store) == SUPPRESSED
    assert drain(store) == []
    assert store.subscription_count() == {"confirmed": 1, "unconfirmed": 0}


def test_other_filters_or_languages_are_other_subscriptions_within_the_address_limit(store, clock):
    assert ask(store, filters=ENGINEERING, per_day=3) == QUEUED
    assert ask(store, filters=SALES, per_day=3) == QUEUED
    assert ask(store, filters=ENGINEERING, language="de", per_day=3) == QUEUED
    assert ask(store, filters=Filters(q="robots"), per_day=3) == SUPPRESSED  # 3 a day
    assert ask(store, "someone.else@example.com", per_day=3) == QUEUED  # another address
    assert store.subscription_count() == {"confirmed": 0, "unconfirmed": 4}
    clock.advance(DAY + 1)
    assert ask(store, filters=Filters(q="robots"), per_day=3) == QUEUED


def test_the_daily_limit_counts_mails_already_sent_and_subscriptions_since_left(store, clock):
    assert ask(store, per_day=1) == QUEUED
    [mail] = drain(store)
    store.mail_sent(mail.id)
    assert store.unsubscribe(mail.subscription_id)
    clock.advance(HOUR)
    # Subscribe, leave, subscribe again: still one confirmation mail a day, no more.
    assert ask(store, per_day=1) == SUPPRESSED
    assert ask(store, filters=SALES, per_day=1) == SUPPRESSED
    assert store.subscription_count() == {"confirmed": 0, "unconfirmed": 0}
    clock.advance(DAY)
    assert ask(store, per_day=1) == QUEUED


def test_requests_racing_for_one_address_make_one_subscription_and_one_mail(backend):
    stores = [backend.store, backend.new()]

    def work(i: int) -> SubscribeOutcome:
        return ask(stores[i % 2])

    results = in_threads(20, work, lambda: [backend.thread_done(s) for s in stores])
    assert (results.count(QUEUED), results.count(SUPPRESSED)) == (1, 19), results
    assert backend.rows("subscriptions") == 1
    assert backend.store.mail_counts()["pending"] == 1
    assert backend.key_count() == 1


# -- confirming, leaving, expiring ---------------------------------------------------------


def test_confirming_records_consent_once(store, clock):
    assert store.confirm(12345) is False
    ask(store)
    sub = only_subscription(store)
    clock.advance(60)
    consented = clock()
    assert store.confirm(sub.id) is True
    clock.advance(600)
    assert store.confirm(sub.id) is True  # a second click
    confirmed = store.subscription(sub.id)
    assert (confirmed.confirmed_at, confirmed.digest_mark) == (consented, consented)
    assert [s.id for s in store.confirmed()] == [sub.id]
    store.set_digest_mark(sub.id, consented + 3000)
    assert store.subscription(sub.id).digest_mark == consented + 3000


def test_unsubscribing_deletes_the_subscription_its_key_and_its_queued_mails(backend, store):
    ask(store)
    ask(store, "other.person@example.com")
    sub, other = store.subscription(1), store.subscription(2)
    store.confirm(sub.id)
    assert store.enqueue(
        MailKind.DIGEST, language="en", params={"positions": [1]}, subscription_id=sub.id
    )
    assert store.unsubscribe(sub.id) is True
    assert store.subscription(sub.id) is None
    assert store.unsubscribe(sub.id) is False
    assert store.confirmed() == []
    assert [m.subscription_id for m in drain(store)] == [other.id]  # only the other's confirm
    assert backend.key_count() == 1


def test_unconfirmed_subscriptions_expire_with_their_keys_and_mails(backend, store, clock):
    ask(store, "old@example.com")
    ask(store, "kept@example.com")
    kept = store.subscription(2)
    store.confirm(kept.id)
    clock.advance(HOUR)
    ask(store, "young@example.com")
    assert store.expire_unconfirmed(clock() - 30 * 60) == 1  # only the old unconfirmed one
    assert store.subscription(1) is None
    assert store.subscription_count() == {"confirmed": 1, "unconfirmed": 1}
    assert backend.key_count() == 2
    assert {m.subscription_id for m in drain(store)} == {kept.id, 3}
    assert store.expire_unconfirmed(clock() - 30 * 60) == 0


def test_a_subscription_whose_key_is_gone_is_unreadable_and_dropped(backend, store, clock):
    ask(store)
    sub = only_subscription(store)
    store.confirm(sub.id)
    backend.drop_key(sub.salt)  # a key store restored from an older backup
    assert store.subscription(sub.id).address is None
    assert store.confirmed() == []
    ask(store, "another@example.com")
    assert store.expire_unconfirmed(clock() - DAY) == 0  # nothing expired ...
    assert store.subscription(sub.id) is None  # ... but the unreadable one is gone
    assert store.subscription_count() == {"confirmed": 0, "unconfirmed": 1}


def test_asking_again_seals_an_address_whose_key_was_lost_anew(backend, store, clock):
    ask(store)
    sub = only_subscription(store)
    backend.drop_key(sub.salt)
    clock.advance(HOUR)
    assert ask(store) == SUPPRESSED  # too soon for another mail, but readable again
    assert store.subscription(sub.id).address == ADDRESS
    assert backend.key_count() == 1


# -- new jobs ------------------------------------------------------------------------------


def test_jobs_open_at_the_first_run_are_never_new(store, clock):
    assert store.first_seen() == {}
    store.note_positions([])
    store.note_positions([101, 102])
    assert store.first_seen() == {101: 0.0, 102: 0.0}
    clock.advance(60)
    store.note_positions(iter([102, 103]))
    assert store.first_seen() == {101: 0.0, 102: 0.0, 103: clock()}
    clock.advance(60)
    store.note_positions([103])
    assert store.first_seen()[103] == clock() - 60


# -- turns shared by every host ------------------------------------------------------------


def test_a_turn_comes_round_once_per_interval(backend, store, clock):
    assert store.take_turn("digest", 3600) is True
    assert store.take_turn("digest", 3600) is False
    assert backend.new().take_turn("digest", 3600) is False  # another process or host
    assert store.take_turn("monitors", 3600) is True  # each name its own
    if backend.name == "sqlite":
        clock.advance(3599)
        assert store.take_turn("digest", 3600) is False
        clock.advance(1)
        assert store.take_turn("digest", 3600) is True
    else:  # the database's clock: wait a short real interval out
        assert store.take_turn("fast", 0.2) is True
        assert eventually(lambda: store.take_turn("fast", 3600), seconds=5)
        assert store.take_turn("fast", 3600) is False


def test_exactly_one_of_many_callers_takes_a_turn(backend):
    stores = [backend.store, backend.new()]

    def work(i: int) -> bool:
        result: bool = stores[i % 2].take_turn("digest", 3600)
        return result

    results = in_threads(20, work, lambda: [backend.thread_done(s) for s in stores])
    assert (results.count(True), results.count(False)) == (1, 19), results


# -- the queue -----------------------------------------------------------------------------


def test_a_dedupe_key_queues_once_whatever_became_of_its_mail(store):
    def alert(key: str) -> bool:
        result: bool = store.enqueue(
            MailKind.ALERT, language="en", params={"alert": "feed_down"}, dedupe_key=key
        )
        return result

    assert alert("alert:a") and alert("alert:b") and alert("alert:c")
    assert not alert("alert:a")  # pending
    first, second, third = drain(store)
    store.mail_sent(first.id)
    store.mail_failed(second.id, "550 refused")
    assert not alert("alert:a") and not alert("alert:b") and not alert("alert:c")
    assert store.known_keys(["alert:a", "alert:c", "alert:z"]) == {"alert:a", "alert:c"}
    for _ in range(2):  # no key: never deduplicated
        assert store.enqueue(MailKind.WEBHOOK, language="en", params={"alert": "x"})
    assert store.mail_counts() == {"pending": 3, "sent": 1, "failed": 1}


def test_mail_to_a_subscription_gone_meanwhile_is_not_queued(store):
    assert not store.enqueue(MailKind.DIGEST, language="en", params={}, subscription_id=999)
    assert store.mail_counts() == {"pending": 0, "sent": 0, "failed": 0}


def test_a_claim_leases_the_oldest_due_mail_with_its_parameters(backend, store, clock):
    assert store.claim_mail("w") is None
    store.enqueue(MailKind.ALERT, language="de", params={"alert": "x", "ids": [1, 2]})
    clock.advance(1)
    store.enqueue(MailKind.WEBHOOK, language="en", params={"alert": "y"})
    first = store.claim_mail("host-a:1:w")
    assert (first.kind, first.language, first.params, first.subscription_id) == (
        MailKind.ALERT,
        "de",
        {"alert": "x", "ids": [1, 2]},
        None,
    )
    second = backend.new().claim_mail("host-b:1:w")
    assert second.kind is MailKind.WEBHOOK
    assert store.claim_mail("host-c:1:w") is None  # both leased
    clock.advance(store.lease_seconds + 1)  # the workers died
    again = store.claim_mail("host-c:1:w")
    assert (again.id, again.attempts) == (first.id, 2)


def test_a_retry_waits_until_its_time_and_keeps_its_error(store, clock):
    store.enqueue(MailKind.ALERT, language="en", params={})
    mail = store.claim_mail("w")
    store.mail_retry(mail.id, clock() + 300, "421 try later")
    assert store.claim_mail("w") is None
    assert store.mail_counts()["pending"] == 1
    clock.advance(300)
    again = store.claim_mail("w")
    assert (again.id, again.attempts) == (mail.id, 2)


def test_sent_and_failed_are_final_and_only_sent_counts_as_sent(store):
    for key in ("k:sent", "k:failed"):
        store.enqueue(MailKind.ALERT, language="en", params={}, dedupe_key=key)
    sent, failed = drain(store)
    assert not store.was_sent("k:sent")
    store.mail_sent(sent.id)
    store.mail_failed(failed.id, "550 " + "x" * 5000)
    store.mail_retry(sent.id, 0, "late")  # the first outcome stands
    store.mail_failed(sent.id, "late")
    assert store.was_sent("k:sent") and not store.was_sent("k:failed")
    assert not store.was_sent("k:unknown")
    assert store.claim_mail("w") is None
    assert store.mail_counts() == {"pending": 0, "sent": 1, "failed": 1}


def test_claims_from_many_workers_on_two_hosts_never_share_a_mail(backend):
    for i in range(30):
        backend.store.enqueue(MailKind.ALERT, language="en", params={"n": i})
    stores = [backend.store, backend.new()]

    def work(i: int) -> list[int]:
        return [m.params["n"] for m in drain(stores[i % 2], f"host-{i % 2}:1:{i}")]

    results = in_threads(8, work, lambda: [backend.thread_done(s) for s in stores])
    claimed = [n for result in results for n in result]
    assert sorted(claimed) == list(range(30)), results  # each exactly once


def test_counts_since_and_purging_done_mail(store, clock):
    store.enqueue(MailKind.ALERT, language="en", params={}, dedupe_key="old")
    clock.advance(HOUR)
    since = clock()
    store.enqueue(MailKind.ALERT, language="en", params={}, dedupe_key="new")
    store.enqueue(MailKind.WEBHOOK, language="en", params={})
    assert store.count_since(MailKind.ALERT, since) == 1
    assert store.count_since(MailKind.ALERT, since - HOUR) == 2
    assert store.count_since(MailKind.CONFIRM, 0) == 0
    old, new, hook = drain(store)
    store.mail_sent(old.id)
    clock.advance(10)
    store.mail_failed(new.id, "refused")
    assert store.purge_mail(clock() - 5) == 1  # the old one only; pending ones never
    assert store.mail_counts() == {"pending": 1, "sent": 0, "failed": 1}
    assert store.enqueue(MailKind.ALERT, language="en", params={}, dedupe_key="old")
    assert not store.enqueue(MailKind.ALERT, language="en", params={}, dedupe_key="new")


# -- erasure -------------------------------------------------------------------------------


def _holding(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in [p for p in root.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        found += [f"{path.name}: {n!r}" for n in needles if n in data]
    return found


def test_after_unsubscribing_the_address_is_found_nowhere_under_the_data_directory(tmp_path, clock):
    backend = Backend("sqlite", clock, f"sqlite:///{tmp_path / 'data' / 'careers.db'}", "mail")
    try:
        store = backend.store
        ask(store)
        sub = only_subscription(store)
        store.confirm(sub.id)
        key = backend.key(sub.salt)
        data_dir = tmp_path / "data"
        assert _holding(data_dir, [ADDRESS.encode()]) == []  # sealed at rest
        assert _holding(data_dir, [key]) == ["careers-mail-keys.db: " + repr(key)]
        store.unsubscribe(sub.id)
        assert _holding(data_dir, [ADDRESS.encode(), key, sub.salt.encode()]) == []
    finally:
        backend.close()


def test_after_unsubscribing_postgres_keeps_no_key(pg_url, clock):
    backend = Backend("postgres", clock, pg_url, "mail")
    try:
        store = backend.store
        ask(store)
        ask(store, "stays@example.com")
        sealed = [bytes(r[0]) for r in backend.query("SELECT address_sealed FROM subscriptions")]
        assert all(ADDRESS.encode() not in s for s in sealed)
        assert store.unsubscribe(1)
        assert store.expire_unconfirmed(clock() + 1) == 1
        assert backend.query("SELECT count(*) FROM subscription_keys") == [(0,)]
        assert backend.rows("subscriptions") == 0
    finally:
        backend.close()


# -- schema --------------------------------------------------------------------------------


def test_a_sqlite_database_at_version_2_is_upgraded_to_the_latest(tmp_path, runner, clock):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = sqlite3.connect(data_dir / "careers.db")
    for step in migrate.steps("sqlite")[:2]:
        db.executescript(step.sql)
    db.execute("PRAGMA user_version = 2")
    db.close()
    with pytest.raises(SchemaMismatch, match=f"version 2, this release needs {_latest('sqlite')}"):
        open_database(f"sqlite:///{data_dir / 'careers.db'}")

    result = runner.invoke(["db", "upgrade"], env={"CAREERS_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        *_applied("sqlite", 2),
        f"schema at version {_latest('sqlite')}",
    ]
    assert result.output.startswith("applied 3: mail queue, job-alert subscriptions")
    backend = Backend("sqlite", clock, f"sqlite:///{data_dir / 'careers.db'}", "mail")
    try:
        assert ask(backend.store) == QUEUED
        assert backend.store.take_turn("digest", 60)
    finally:
        backend.close()


def test_a_postgres_database_of_the_previous_release_is_upgraded_to_the_latest(
    fresh_pg_url, tmp_path, runner, clock
):
    previous = migrate.steps("postgresql")[:1]
    assert database.upgrade(fresh_pg_url, previous) == (1, list(previous))
    with pytest.raises(
        SchemaMismatch, match=f"version 1, this release needs {_latest('postgresql')}"
    ):
        open_database(fresh_pg_url)

    params = conninfo_to_dict(fresh_pg_url)
    url = (
        f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', 5432)}/{params['dbname']}"
    )
    env = {"CAREERS_DATA_DIR": str(tmp_path / "data"), "CAREERS_DATABASE_URL": url}
    result = runner.invoke(["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "applied 3: mail queue" in result.output
    assert f"schema at version {_latest('postgresql')}" in result.output
    backend = Backend("postgres", clock, fresh_pg_url, "mail")
    try:
        assert ask(backend.store) == QUEUED
        assert set(OUR_TABLES) <= {r[0] for r in backend.query("SELECT tablename FROM pg_tables")}
    finally:
        backend.close()


def _latest(dialect: str) -> int:
    return migrate.latest(migrate.steps(dialect))


def _applied(dialect: str, since: int) -> list[str]:
    """What `careers db upgrade` prints for the steps after `since`."""
    return [
        f"applied {step.version}: {step.description}"
        for step in migrate.steps(dialect)
        if step.version > since
    ]
