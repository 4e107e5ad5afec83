"""Recruiting API v2 against the sandbox as a real HTTP server: OAuth client-credentials
tokens, delivery through the v2 endpoints, expiry, wrong credentials, a v1 → v2 switch with
applications queued, and v2's problem+json errors in the one error table."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from careers.applications.delivery import CREDENTIALS_PROBLEM, Deliverer
from careers.applications.store import Outbox
from careers.db.database import open_database
from careers.personio.recruiting import (
    CredentialsRejected,
    DuplicateApplicant,
    PermanentError,
    RecruitingClient,
    TransientError,
    error_for,
)
from careers.personio.tokens import TOKEN_BURST, ClientCredentials, TokenBudget
from careers.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from careers.services import recruiting_client

from .applying import V2, Clock, Ticks, apply_env, run_until_idle, submit


def tokens(url: str, secret: str = SANDBOX_CLIENT_SECRET, clock=None) -> ClientCredentials:
    return ClientCredentials(url, SANDBOX_CLIENT_ID, secret, **({"clock": clock} if clock else {}))


def v2_client(url: str, provider: ClientCredentials) -> RecruitingClient:
    return RecruitingClient(url, "", provider, version=2, timeout=httpx.Timeout(10.0))


def deliverer(app, client: RecruitingClient, clock: Clock) -> tuple[Deliverer, Outbox]:
    """A deliverer of the app's (SQLite) outbox, and the outbox (the caller closes it)."""
    settings = app.extensions["careers"].settings
    database = open_database(settings.database_url, clock=clock)
    outbox = database.outbox
    return Deliverer(outbox, client, database.limiter(1000, 60), clock=clock), outbox


def paths(sandbox) -> list[str]:
    """The Recruiting API and token requests the sandbox saw (not the feed's)."""
    return [r["path"] for r in sandbox.requests if r["path"].startswith("/v")]


# -- the sandbox's token endpoint ---------------------------------------------------------


def test_the_sandbox_issues_expiring_tokens_for_form_encoded_client_credentials(
    sandbox, sandbox_server
):
    form = {
        "grant_type": "client_credentials",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
    }
    answer = httpx.post(f"{sandbox_server.url}/v2/auth/token", data=form)
    assert answer.status_code == 200
    issued = answer.json()
    assert issued["token_type"] == "Bearer" and issued["expires_in"] > 0
    as_json = httpx.post(f"{sandbox_server.url}/v2/auth/token", json=form)
    assert as_json.status_code == 400  # form-encoded only (docs/personio.md §2.4)
    wrong = httpx.post(f"{sandbox_server.url}/v2/auth/token", data={**form, "client_secret": "x"})
    assert wrong.status_code == 401
    assert wrong.headers["Content-Type"] == "application/problem+json"
    assert wrong.json()["errors"][0]["title"] == "Unauthorized"
    # The token opens the v2 endpoints, and only those: v1 wants the Recruiting API key.
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    v2 = httpx.post(f"{sandbox_server.url}/v2/recruiting/applications", json={}, headers=bearer)
    v1 = httpx.post(f"{sandbox_server.url}/v1/recruiting/applications", json={}, headers=bearer)
    assert (v2.status_code, v1.status_code) == (400, 401)
    assert v2.headers["Content-Type"] == "application/problem+json"


def test_a_token_the_sandbox_has_expired_gets_401(start_sandbox):
    ticks = Ticks()
    server = start_sandbox(clock=ticks, token_lifetime=30)
    provider = tokens(server.url)
    bearer = {"Authorization": f"Bearer {provider.token()}"}
    url = f"{server.url}/v2/recruiting/applications"
    assert httpx.post(url, json={}, headers=bearer).status_code == 400  # valid: the body is not
    ticks.now += 30
    expired = httpx.post(url, json={}, headers=bearer)
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["detail"] == "The access token is invalid or has expired."


# -- delivery through v2 ------------------------------------------------------------------


def test_an_application_with_documents_and_custom_attributes_reaches_the_v2_endpoints(
    make_app, sandbox, sandbox_server, tmp_path
):
    # Both credentials set: v2 is used and the v1 key is not (issue 21).
    app = make_app(**apply_env(sandbox_server.url, tmp_path), **V2)
    settings = app.extensions["careers"].settings
    assert settings.personio_api_version == 2
    submit(app, tmp_path)
    clock = Clock()
    with recruiting_client(settings) as client:
        worker, outbox = deliverer(app, client, clock)
        assert worker.deliver_next() == "delivered"
        outbox.close()
    [received] = sandbox.received_applications
    assert received["api"] == "v2"
    body = received["body"]
    assert {"id": "custom_attribute_1002", "value": "friend"} in body["attributes"]
    assert sorted(f["category"] for f in body["files"]) == ["cover-letter", "cv"]
    assert {f["uuid"] for f in body["files"]} == set(sandbox.received_documents)
    assert paths(sandbox) == [
        "/v2/auth/token",
        "/v2/recruiting/applications/documents",
        "/v2/recruiting/applications/documents",
        "/v2/recruiting/applications",
    ]
    # Shown on the sandbox's page of received applications, with the API it came through.
    page = httpx.get(f"{sandbox_server.url}/_sandbox/applications").text
    assert "juergen.mueller@example.com" in page and "<dt>API</dt><dd>v2</dd>" in page


def test_token_expiry_in_the_middle_of_a_backlog_costs_one_new_token_and_nothing_else(
    make_app, start_sandbox, tmp_path
):
    ticks = Ticks()
    server = start_sandbox(clock=ticks, token_lifetime=3600)
    app = make_app(**apply_env(server.url, tmp_path), **V2)
    emails = [f"kandidat{i}@example.com" for i in range(4)]
    for email in emails:
        submit(app, tmp_path, email=email)
    clock = Clock()
    provider = tokens(server.url)  # its own clock says the token is fresh throughout
    with v2_client(server.url, provider) as client:
        worker, outbox = deliverer(app, client, clock)
        assert worker.deliver_next() == "delivered"
        ticks.now += 3600  # Personio's clock: the token has expired mid-backlog
        assert run_until_idle(worker, clock) == ["delivered"] * 3
        outbox.close()
    issuer = server.sandbox.recruiting.issuer
    assert provider.fetched == 2 and issuer.requests == 2  # one 401, one new token
    received = server.sandbox.received_applications
    assert sorted(a["body"]["email"] for a in received) == sorted(emails)  # once each
    assert len(server.sandbox.received_documents) == 2 * len(emails)  # no upload twice
    recruiting = [p for p in paths(server.sandbox) if p.startswith("/v2/recruiting")]
    assert len(recruiting) == len(emails) * 3 + 1  # every request once, the expired one twice


def test_a_token_is_renewed_before_it_expires_without_a_401(start_sandbox):
    ticks = Ticks()
    server = start_sandbox(clock=ticks, token_lifetime=600)
    provider = tokens(server.url, clock=ticks)
    first = provider.token()
    ticks.now += 539  # 600 s less the margin (a tenth of the life, at most a minute)
    assert provider.token() == first
    ticks.now += 1
    assert provider.token() != first and provider.fetched == 2


def test_wrong_client_credentials_pause_delivery_and_park_nothing(
    make_app, sandbox, sandbox_server, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    app = make_app(**apply_env(sandbox_server.url, tmp_path), **V2)
    submit(app, tmp_path)
    clock = Clock()
    secret = "wrong-client-secret-42"
    with v2_client(sandbox_server.url, tokens(sandbox_server.url, secret)) as client:
        worker, outbox = deliverer(app, client, clock)
        assert worker.deliver_next() == "paused"
        assert worker.health.problem == CREDENTIALS_PROBLEM
        [job] = outbox.summaries(limit=10)
        assert job.status == "pending" and job.last_reason == "credentials_rejected"
        assert job.last_detail == "client_credentials_rejected (HTTP 401)"
        outbox.close()
    assert sandbox.received_applications == [] and sandbox.received_documents == {}
    assert secret not in caplog.text
    # Fixed: the same queue goes out, once.
    clock.advance(3600)
    with v2_client(sandbox_server.url, tokens(sandbox_server.url)) as client:
        worker, outbox = deliverer(app, client, clock)
        assert run_until_idle(worker, clock) == ["delivered"]
        outbox.close()
    assert len(sandbox.received_applications) == 1


def test_no_secret_or_token_reaches_a_log_an_error_or_careers_outbox_show(
    make_app, start_sandbox, tmp_path, caplog, runner
):
    caplog.set_level(logging.DEBUG)
    secret = "the-client-SECRET-0042"
    server = start_sandbox(client_secret=secret)
    app = make_app(**apply_env(server.url, tmp_path), **V2)
    submit(app, tmp_path)
    submit(app, tmp_path, email="zweite@example.com")
    clock = Clock()
    errors = []
    for used in ("wrong-SECRET-0099", secret):  # refused first (paused), then delivered
        provider = tokens(server.url, used)
        with v2_client(server.url, provider) as client:
            worker, outbox = deliverer(app, client, clock)
            try:
                client.create_application({})  # a refusal, as an exception
            except (CredentialsRejected, PermanentError) as exc:
                errors.append(f"{exc!s} {exc!r} {exc.operator_detail}")
            errors.append(f"{client!r} {provider!r}")
            worker.deliver_next()
            outbox.close()
        clock.advance(3600)
    issued = list(server.sandbox.recruiting.issuer._tokens)
    assert issued and len(server.sandbox.received_applications) == 1
    settings = app.extensions["careers"].settings
    env = {"CAREERS_DATA_DIR": str(settings.data_dir), "CAREERS_SECRET_KEY": "k" * 32}
    shown = [runner.invoke(["outbox", "show", str(n)], env=env).output for n in (1, 2)]
    assert "client_credentials_rejected" in shown[0] + shown[1]  # what show does say
    everything = caplog.text + " ".join(errors) + " ".join(shown) + repr(settings)
    for leaked in (secret, "wrong-SECRET-0099", *issued):
        assert leaked not in everything


def test_switching_from_v1_to_v2_with_applications_queued_loses_and_repeats_nothing(
    make_app, sandbox, sandbox_server, tmp_path
):
    app = make_app(**apply_env(sandbox_server.url, tmp_path))
    emails = ["erste@example.com", "zweite@example.com", "dritte@example.com"]
    for email in emails:
        submit(app, tmp_path, email=email)
    clock = Clock()
    settings = app.extensions["careers"].settings
    with recruiting_client(settings) as v1:
        worker, outbox = deliverer(app, v1, clock)
        assert worker.deliver_next() == "delivered"
        # The second one gets its documents to Personio, then the process stops.
        sandbox.inject("applications", "status", status=503, times=1)
        assert worker.deliver_next() == "retry"
        outbox.close()
    # The operator sets an OAuth client and restarts: the queue goes on through v2.
    switched = make_app(data_dir=Path(settings.data_dir), **apply_env(sandbox_server.url, tmp_path), **V2)  # fmt: skip
    with recruiting_client(switched.extensions["careers"].settings) as v2:
        assert v2.version == 2
        worker, outbox = deliverer(switched, v2, clock)
        assert run_until_idle(worker, clock) == ["delivered", "delivered"]
        outbox.close()
    received = sandbox.received_applications
    assert sorted(a["body"]["email"] for a in received) == sorted(emails)
    assert [a["api"] for a in received] == ["v1", "v2", "v2"]
    uploads = [p for p in paths(sandbox) if p.endswith("/documents")]
    assert len(uploads) == len(sandbox.received_documents) == 2 * len(emails)  # none again
    assert sum(p.startswith("/v1/") for p in uploads) == 4


# -- the token endpoint's limit, and its faults -------------------------------------------


def test_the_token_budget_is_150_a_minute_then_one_a_second():
    ticks = Ticks()
    budget = TokenBudget(ticks)
    assert all(budget.wait() == 0 for _ in range(TOKEN_BURST))
    assert budget.wait() == pytest.approx(1.0)
    ticks.now += 1.0
    assert budget.wait() == 0  # one a second once the burst is spent
    assert budget.wait() == pytest.approx(1.0)
    ticks.now += 60.0
    assert all(budget.wait() == 0 for _ in range(TOKEN_BURST - 1))


def test_a_busy_token_endpoint_is_retried_later_and_nothing_was_sent(sandbox, sandbox_server):
    sandbox.inject("token", "status", status=429, retry_after=7, times=1)
    provider = tokens(sandbox_server.url)
    with v2_client(sandbox_server.url, provider) as client:
        with pytest.raises(TransientError) as err:
            client.create_application({})
    assert err.value.retry_after == 7 and not err.value.maybe_delivered
    assert err.value.reason == "token_rate_limited"
    assert paths(sandbox) == ["/v2/auth/token"]  # the application was never sent


def test_v2_endpoints_take_the_same_faults_as_v1(sandbox, sandbox_server):
    sandbox.inject("applications", "status", status=503, retry_after=30, times=1)
    with v2_client(sandbox_server.url, tokens(sandbox_server.url)) as client:
        with pytest.raises(TransientError) as err:
            client.create_application({})
    assert err.value.status == 503 and err.value.retry_after == 30


def test_v2_shares_v1s_budget_and_answers_429_with_retry_after(start_sandbox):
    server = start_sandbox(clock=Ticks(), rate_limit=(1, 60.0))
    with v2_client(server.url, tokens(server.url)) as client:
        with pytest.raises(PermanentError):  # admitted, and refused for its empty body
            client.create_application({})
        with pytest.raises(TransientError) as err:
            client.create_application({})
    assert err.value.status == 429 and err.value.retry_after == 60
    assert server.sandbox.recruiting.refused_for_rate == 1


def test_check_asks_for_a_token_and_names_the_api_version(
    runner, sandbox, sandbox_server, tmp_path
):
    env = {f"CAREERS_{k.upper()}": v for k, v in apply_env(sandbox_server.url, tmp_path).items()}
    env.update(
        CAREERS_PERSONIO_FEED_URL=f"{sandbox_server.url}/xml",
        CAREERS_SECRET_KEY="k" * 32,
        CAREERS_DATA_DIR=str(tmp_path / "data"),
        CAREERS_DEFAULT_COUNTRY="DE",
        CAREERS_COMPANY_NAME="Nordlicht",
        CAREERS_PERSONIO_CLIENT_ID=SANDBOX_CLIENT_ID,
        CAREERS_PERSONIO_CLIENT_SECRET=SANDBOX_CLIENT_SECRET,
    )
    result = runner.invoke(["check"], env=env)
    assert "mode: applications via Recruiting API v2" in result.output
    assert (
        "recruiting API: credentials ok, delivery uses API v2: Personio issued a token to the"
        " OAuth client (API v2) (CAREERS_PERSONIO_RECRUITING_TOKEN is set but not used)"
    ) in result.output
    assert paths(sandbox) == ["/v2/auth/token"]
    sandbox.clear_requests()
    result = runner.invoke(["check"], env={**env, "CAREERS_PERSONIO_CLIENT_SECRET": "nope-nope"})
    assert result.exit_code == 1
    assert "recruiting API: FAILED credentials rejected: Personio refused the OAuth client" in (
        result.output
    )
    assert "nope-nope" not in result.output


# -- v2's problem+json in the one error table ---------------------------------------------


def _problem(status: int, reason: str, field: str = "email") -> bytes:
    item = {
        "title": "Bad Request",
        "detail": "said in words",
        "type": f"https://developer.personio.de/v2.0/page/public-api-error-codes#{reason}",
        "_meta": {"field": field, "reason": reason},
    }
    import json

    return json.dumps({"personio_trace_id": "t", "timestamp": "x", "errors": [item]}).encode()


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (400, "errors.applicant-already-exists", DuplicateApplicant),
        (400, "errors.job-position.not-published", PermanentError),
        (422, "errors.file-validation.file-not-exists", PermanentError),
        (403, "feature.public-api.disabled", CredentialsRejected),
        (429, "errors.rate-limited", TransientError),
        (503, "errors.unavailable", TransientError),
    ],
)
def test_v2_problem_json_errors_map_like_v1(status, reason, kind):
    error = error_for(status, _problem(status, reason), httpx.Headers())
    assert type(error) is kind
    assert reason in error.reasons
    if kind is PermanentError:
        assert error.reason == reason and error.operator_detail == f"email: {reason}"


def test_the_anchor_of_personios_own_v2_errors_is_not_taken_for_a_reason():
    body = (
        b'{"errors": [{"title": "Not Found", "detail": "The endpoint with /v2/x was not found.",'
        b' "type": "https://developer.personio.de/v2.0/page/public-api-error-codes#apinot_found",'
        b' "_meta": {"path": "/v2/x"}}]}'
    )
    error = error_for(404, body, httpx.Headers())
    assert type(error) is PermanentError and error.reasons == [] and error.reason == "http_404"
