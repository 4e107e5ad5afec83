"""What careers sends Personio, recorded by the sandbox, against Personio's own published
request schemas (tests/fixtures/personio/SOURCE.md), for v1 and v2 alike. The published
schemas allow any extra property; here every object schema forbids them, so a field Personio
does not define fails."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from careers.applications.delivery import Deliverer
from careers.db.database import open_database
from careers.services import recruiting_client

from .applying import V2, Clock, apply_env, run_until_idle, submit

OPENAPI = Path(__file__).parent / "fixtures" / "personio" / "personio-recruiting-api.yaml"


def closed(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that lists properties."""
    if isinstance(schema, dict):
        schema = {key: closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    application = spec["components"]["schemas"]["submit_application"]
    upload = spec["paths"]["/v1/recruiting/applications/documents"]["post"]["requestBody"]
    return {
        "application": closed(copy.deepcopy(application)),
        "document": closed(copy.deepcopy(upload["content"]["multipart/form-data"]["schema"])),
    }


def validate(schema: Any, instance: Any) -> None:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(instance), key=str)
    assert not errors, "\n".join(e.message for e in errors)


def test_the_closed_schema_refuses_what_personio_does_not_define(schemas):
    """The check can fail: v1's legacy habits (§4.6) and a string id are caught."""
    body = {"first_name": "A", "last_name": "B", "email": "a@example.com", "job_position_id": 1}
    validate(schemas["application"], body)
    for wrong in ({"phone": "+49"}, {"job_position_id": "1"}, {"files": [{"uuid": "x"}]}):
        with pytest.raises(AssertionError):
            validate(schemas["application"], {**body, **wrong})
    with pytest.raises(AssertionError):
        validate(schemas["document"], {"file": "x", "category": "cv"})


@pytest.mark.parametrize("version", [1, 2])
def test_every_body_careers_sends_validates_against_personios_schemas(
    make_app, sandbox, sandbox_server, tmp_path, schemas, version
):
    env = apply_env(sandbox_server.url, tmp_path, **(V2 if version == 2 else {}))
    app = make_app(**env)
    # Applications with system fields, a custom attribute and two categories of documents.
    submit(app, tmp_path)
    submit(app, tmp_path, email="zweite@example.com")
    settings = app.extensions["careers"].settings
    clock = Clock()
    database = open_database(settings.database_url, clock=clock)
    with recruiting_client(settings) as client:
        worker = Deliverer(database.outbox, client, database.limiter(1000, 60), clock=clock)
        assert run_until_idle(worker, clock) == ["delivered", "delivered"]
    database.close()
    received = sandbox.received_applications
    assert {a["api"] for a in received} == {f"v{version}"} and len(received) == 2
    for application in received:
        validate(schemas["application"], application["body"])
    documents = sandbox.received_documents.values()
    assert len(documents) == 4
    for document in documents:
        validate(schemas["document"], dict.fromkeys(document.parts, "<binary>"))
