"""The Personio v2 token shared by every host and process through the database
(careers/db/tokens.py), against the sandbox as a real HTTP server and real databases: one
token request for many hosts, renewal before expiry and after a 401 done once, the token
endpoint's limit counted for all hosts, and the token sealed at rest."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from careers.applications.delivery import Deliverer
from careers.db.database import Database, open_database
from careers.db.tokens import LEASE, SharedToken
from careers.personio.recruiting import RecruitingClient, TransientError
from careers.personio.tokens import TOKEN_BURST, client_key
from careers.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from careers.services import recruiting_client

from .applying import V2, Clock, Ticks, apply_env, run_until_idle, submit
from .apps import SECRET
from .pg import as_url
from .token_hosts import digest, probe, shared_token

ROOT = Path(__file__).resolve().parents[1]


def v2(url: str, tokens) -> RecruitingClient:
    return RecruitingClient(url, "", tokens, version=2)


def issued(server) -> list[str]:
    """Every token the sandbox has handed out and still knows."""
    return list(server.sandbox.recruiting.issuer._tokens)


def token_requests(server) -> int:
    return server.sandbox.recruiting.issuer.requests


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'careers.db'}"


# -- many hosts, one token -----------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
def test_three_hosts_asking_together_share_one_token(dialect, start_sandbox, tmp_path, request):
    server = start_sandbox()
    url = request.getfixturevalue("pg_url") if dialect == "postgres" else sqlite_url(tmp_path)
    # The first token request takes half a second: the others ask while it is under way.
    server.sandbox.inject("token", "slow", delay=0.5, times=1)
    hosts = [open_database(url) for _ in range(3)]  # a database object each: three hosts
    providers = [shared_token(database, server.url) for database in hosts]
    start = threading.Barrier(len(providers))
    got: dict[int, tuple[int, str]] = {}

    def host(n: int) -> None:
        start.wait()
        with v2(server.url, providers[n]) as client:
            got[n] = (probe(client), providers[n].token())
        hosts[n].release()

    threads = [threading.Thread(target=host, args=(n,)) for n in range(len(providers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for database in hosts:
        database.close()
    assert token_requests(server) == 1
    assert {status for status, _ in got.values()} == {400}  # accepted; `{}` is not
    assert len({token for _, token in got.values()}) == 1
    assert [token for _, token in got.values()][0] in issued(server)


def _start_hosts(count: int, env: dict[str, str], go: Path) -> list[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "tests.token_hosts", str(go)]
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]


def _host_env(server_url: str, tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    settings = {**apply_env(server_url, tmp_path), **V2}
    env.update({f"CAREERS_{k.upper()}": v for k, v in settings.items()})
    env.update(
        CAREERS_PERSONIO_FEED_URL=f"{server_url}/xml",
        CAREERS_SECRET_KEY=SECRET,
        CAREERS_DATA_DIR=str(tmp_path / "data"),
        CAREERS_DATABASE_URL=database_url,
        CAREERS_COMPANY_NAME="Nordlicht Robotics",
    )
    return env


@pytest.mark.system
@pytest.mark.parametrize(("dialect", "count"), [("postgres", 3), ("sqlite", 2)])
def test_host_processes_started_together_make_one_token_request(
    dialect, count, start_sandbox, tmp_path, request
):
    server = start_sandbox()
    if dialect == "postgres":
        url = as_url(request.getfixturevalue("pg_url"))
    else:
        url = sqlite_url(tmp_path)
        open_database(url).close()  # the schema, as `careers serve` makes it at start
    server.sandbox.inject("token", "slow", delay=0.5, times=1)  # the others ask meanwhile
    go = tmp_path / "go"
    hosts = _start_hosts(count, _host_env(server.url, tmp_path, url), go)
    go.touch()
    lines = [host.communicate(timeout=120)[0].split() for host in hosts]
    assert [host.returncode for host in hosts] == [0] * count
    assert token_requests(server) == 1
    [token] = issued(server)
    assert lines == [["400", digest(token)]] * count


# -- renewal -----------------------------------------------------------------------------


def _deliverer(database: Database, client: RecruitingClient, clock: Clock) -> Deliverer:
    return Deliverer(database.outbox, client, database.limiter(1000, 60), clock=clock)


def test_expiry_in_the_middle_of_a_backlog_renews_once_for_every_host(
    make_app, start_sandbox, tmp_path, pg_url, caplog
):
    caplog.set_level(logging.DEBUG)
    ticks = Ticks()
    server = start_sandbox(clock=ticks, token_lifetime=600)
    env = apply_env(server.url, tmp_path, submit_rate_limit="1000/60")
    app = make_app(**env, database_url=as_url(pg_url), **V2)
    settings = app.extensions["careers"].settings
    emails = [f"kandidat{i}@example.com" for i in range(6)]
    for email in emails:
        submit(app, tmp_path, email=email)
    clock = Clock()
    hosts = [open_database(settings.database_url, clock=clock) for _ in range(2)]
    clients = [recruiting_client(settings, database=database) for database in hosts]
    workers = [_deliverer(d, c, clock) for d, c in zip(hosts, clients, strict=True)]
    assert [w.deliver_next() for w in workers] == ["delivered", "delivered"]
    # The token is due for renewal on our clock (600 s less a minute) and expires on
    # Personio's a minute later: both hosts go on with one new token, and no 401.
    clock.advance(541)
    ticks.now += 600
    outcomes = [w.deliver_next() for w in workers]
    outcomes += run_until_idle(workers[0], clock) + run_until_idle(workers[1], clock)
    assert outcomes == ["delivered"] * 4
    for client in clients:
        client.close()
    for database in hosts:
        database.close()
    assert token_requests(server) == 2
    received = server.sandbox.received_applications
    assert sorted(a["body"]["email"] for a in received) == sorted(emails)  # once each
    recruiting = [r for r in server.sandbox.requests if r["path"].startswith("/v2/recruiting")]
    assert len(recruiting) == 3 * len(emails)  # two uploads and the application: none again
    for token in issued(server):
        assert token not in caplog.text


def test_a_refused_token_is_fetched_again_once_when_two_hosts_see_the_401(
    start_sandbox, tmp_path, pg_url
):
    ticks = Ticks()
    server = start_sandbox(clock=ticks, token_lifetime=3600)
    hosts = [open_database(pg_url) for _ in range(2)]
    providers = [shared_token(database, server.url) for database in hosts]
    clients = [v2(server.url, provider) for provider in providers]
    assert [probe(c) for c in clients] == [400, 400] and token_requests(server) == 1
    refused = providers[0].token()
    server.sandbox.recruiting.issuer.expire_all()  # revoked early, on Personio's side
    # Each host gets a 401 for the same token, forgets it once, and sends again with the
    # new one: the second host's 401 finds a newer token stored and fetches nothing.
    assert [probe(c) for c in clients] == [400, 400]
    assert token_requests(server) == 2
    renewed = {provider.token() for provider in providers}
    assert len(renewed) == 1 and refused not in renewed
    for client in clients:
        client.close()
    for database in hosts:
        database.close()


def test_wrong_client_credentials_store_nothing_and_the_next_host_asks_again(
    start_sandbox, tmp_path, pg_url
):
    server = start_sandbox()
    wrong = "wrong-client-SECRET-7"
    database = open_database(pg_url)
    for _ in range(2):
        with v2(server.url, shared_token(database, server.url, wrong)) as client:
            assert probe(client) == 401  # paused as CredentialsRejected: see the v2 tests
    assert token_requests(server) == 2  # the lease went with each refusal: none waits on it
    with v2(server.url, shared_token(database, server.url)) as client:
        assert probe(client) == 400
    database.close()
    assert token_requests(server) == 3


# -- the token endpoint's limit on every host -----------------------------------------------


def test_the_token_budget_is_shared_by_every_host(tmp_path):
    clock = Clock()
    url = sqlite_url(tmp_path)
    first, second = (open_database(url, clock=clock) for _ in range(2))
    client = client_key("https://api.personio.de", SANDBOX_CLIENT_ID)
    budgets = [first.token_budget(client), second.token_budget(client)]
    assert all(budgets[n % 2].wait() == 0 for n in range(TOKEN_BURST))
    assert budgets[0].wait() == 0  # the minute's 150 are gone: one a second
    assert budgets[1].wait() == pytest.approx(1.0)
    clock.advance(1.0)
    assert budgets[1].wait() == 0
    assert budgets[0].wait() > 0
    clock.advance(60.0)
    assert all(budgets[0].wait() == 0 for _ in range(TOKEN_BURST))
    other = second.token_budget(client_key("https://api.personio.de", "another-client"))
    assert other.wait() == 0  # each OAuth client has a budget of its own
    first.close()
    second.close()


def test_a_host_told_to_wait_by_the_shared_budget_sends_nothing(start_sandbox, tmp_path):
    server = start_sandbox()
    clock = Clock()
    database = open_database(sqlite_url(tmp_path), clock=clock)
    budget = database.token_budget(client_key(server.url, SANDBOX_CLIENT_ID))
    while budget.wait() == 0:  # another host spent the minute's requests and this second's
        pass
    with v2(server.url, shared_token(database, server.url)) as client:
        with pytest.raises(TransientError) as err:
            client.create_application({})
    assert err.value.reason == "token_rate_limited" and not err.value.maybe_delivered
    assert token_requests(server) == 0 and server.sandbox.requests == []
    database.close()


# -- sealed at rest ------------------------------------------------------------------------


def test_the_stored_token_is_sealed_on_postgresql(start_sandbox, pg_url):
    server = start_sandbox()
    database = open_database(pg_url)
    provider = shared_token(database, server.url)
    token = provider.token()
    assert token in issued(server)
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute("SELECT * FROM personio_tokens").fetchall()
        dump = bytearray()
        with conn.cursor().copy("COPY personio_tokens TO STDOUT (FORMAT BINARY)") as copy:
            for block in copy:
                dump += block
        keys = conn.execute("SELECT id FROM token_keys").fetchall()
    [row] = rows
    assert token.encode() not in bytes(dump) and token not in repr(row)
    assert SANDBOX_CLIENT_ID not in repr(row) and SANDBOX_CLIENT_SECRET.encode() not in dump
    assert row[0] == client_key(server.url, SANDBOX_CLIENT_ID)
    [(first_key,)] = keys
    assert first_key.startswith(f"{row[0]}:1:")
    assert token not in repr(provider) and token not in repr(database)
    # Renewed: the new token sealed with a new key, the old key deleted.
    provider.invalidate(token)
    assert provider.token() != token
    with psycopg.connect(pg_url, autocommit=True) as conn:
        [(second_key,)] = conn.execute("SELECT id FROM token_keys").fetchall()
    assert second_key.startswith(f"{row[0]}:2:")
    database.close()


def test_the_stored_token_is_sealed_on_sqlite(start_sandbox, tmp_path):
    server = start_sandbox()
    database = open_database(sqlite_url(tmp_path))
    token = shared_token(database, server.url).token()
    assert token in issued(server)
    data = tmp_path / "data"
    files = sorted(p.name for p in data.iterdir() if p.is_file())
    assert "careers-token-keys.db" in files
    for path in data.iterdir():
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path.name
    database.close()
    # A process that never used a v2 token has no token key file (v1 installations).
    other = tmp_path / "v1"
    open_database(f"sqlite:///{other / 'careers.db'}").close()
    assert not (other / "careers-token-keys.db").exists()


def test_a_host_that_died_fetching_holds_the_others_up_only_until_its_lease_runs_out(
    start_sandbox, tmp_path
):
    server = start_sandbox()
    clock = Clock()
    database = open_database(sqlite_url(tmp_path), clock=clock)
    crashed = shared_token(database, server.url)
    assert isinstance(crashed._claim(), tuple)  # took the lease, then died before asking
    waited: list[float] = []

    def sleep(seconds: float) -> None:  # the waiting host's time passes on the test clock
        waited.append(seconds)
        clock.advance(seconds)

    ring = database.token_keys.ring()
    survivor = SharedToken(database.connector, ring, crashed.endpoint, clock=clock, sleep=sleep)
    token = survivor.token()
    assert token in issued(server) and token_requests(server) == 1
    assert LEASE <= sum(waited) < LEASE + 1  # it waited for the lease, no longer
    database.close()
