"""The compose files and the Kubernetes example say what the code does.

Their commands are resolved through the real `careers` command group, their ports are the
port `serve` binds, their health checks and probes ask routes that answer 200, and every
CAREERS_* variable they name is a setting. Then the PostgreSQL compose file's web + worker
pair runs for real, with its own environment, against the host's PostgreSQL and the sandbox.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import click
import httpx
import pytest
import yaml

from careers.cli import main
from careers.cli.serve import gunicorn_options
from careers.config import load_storage_settings, unknown_variables
from careers.db.database import open_database
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN

from . import filegen
from .applying import JOB, encode, token_of, valid_fields
from .apps import SECRET
from .pg import as_url
from .servers import ROOT, eventually, free_port

COMPOSE = ROOT / "compose.yaml"
COMPOSE_POSTGRES = ROOT / "compose.postgres.yaml"
ENV_EXAMPLE = ROOT / "careers.env.example"
KUBERNETES = ROOT / "deploy" / "kubernetes"
IMAGE = "personio-careers"
# The image's CAREERS_DATA_DIR and volume (Dockerfile): where compose mounts its volumes.
IMAGE_DATA_DIR = "/data"
# The user the image runs as (Dockerfile), which Kubernetes must run it as too.
IMAGE_UID = 10001
# What the health checks ask: http://127.0.0.1:PORT/PATH inside the container.
LOCAL_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/[^'\"\s]*)")


def load(path: Path) -> list[dict[str, Any]]:
    """Every YAML document of a file (Kubernetes files hold several)."""
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def invocation(args: list[str]) -> click.Context:
    """`careers ARGS` resolved through the real command group and parsed, as the image's
    entrypoint would run it, without running it: an unknown command or option, or a value
    of the wrong type, fails here."""
    command: click.Command = main
    ctx = click.Context(main, info_name="careers")
    rest = list(args)
    name = "careers"
    while isinstance(command, click.Group):
        assert rest, f"`careers {' '.join(args)}` names no command"
        name, rest = rest[0], rest[1:]
        found = command.get_command(ctx, name)
        assert found is not None, f"careers has no command {name!r} (in {args})"
        command = found
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=name, parent=ctx)
    return command.make_context(name, rest, parent=ctx)


def command_path(ctx: click.Context) -> str:
    """`serve`, `worker`, `db upgrade`: the command a parsed invocation runs."""
    return ctx.command_path.removeprefix("careers ")


def env_example() -> dict[str, str]:
    """careers.env.example as Docker reads an env file: KEY=value lines, # comment lines."""
    values = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"careers.env.example:{number}: not KEY=value"
        # Docker and systemd keep quotes and trailing comments as part of the value.
        assert "#" not in value and not value.startswith(("'", '"')), f"line {number}: {line}"
        values[name] = value
    return values


def known(names: list[str]) -> None:
    """Every name is a setting (no typo, no retired name)."""
    assert names, "no CAREERS_* variable found"
    assert unknown_variables(dict.fromkeys(names, "")) == []


def graceful_timeout() -> int:
    """How long `serve` lets requests finish after SIGTERM."""
    return int(gunicorn_options("127.0.0.1", 8000, 1)["graceful_timeout"])


def seconds(value: str) -> int:
    """Compose durations used here: `40s`, `1m`, `1m30s`."""
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", value)
    assert match and value, f"not a duration: {value!r}"
    return int(match[1] or 0) * 60 + int(match[2] or 0)


@pytest.fixture
def answered(client) -> Iterator[Any]:
    """Asks the app (against the sandbox) for a path; 200 once the app is ready for it."""

    def status(path: str) -> int:
        # /readyz is 503 until the first feed copy is in: the same wait a probe has.
        eventually(lambda: client.get(path).status_code == 200, 20, every=0.2)
        return int(client.get(path).status_code)

    yield status


# -- compose.yaml and compose.postgres.yaml -----------------------------------------------


def careers_services(path: Path) -> dict[str, dict[str, Any]]:
    services = load(path)[0]["services"]
    return {
        name: service
        for name, service in services.items()
        if service["image"].split(":")[0] == IMAGE
    }


def service_env(service: dict[str, Any]) -> dict[str, str]:
    """What a careers container gets: its env file (the example), then `environment`."""
    assert service["env_file"] == ENV_EXAMPLE.name.removesuffix(".example")
    return {**env_example(), **{k: str(v) for k, v in service["environment"].items()}}


@pytest.mark.parametrize("path", [COMPOSE, COMPOSE_POSTGRES], ids=lambda p: p.name)
def test_compose_services_run_real_commands_on_the_serve_port(path, answered):
    services = careers_services(path)
    assert services
    for name, service in services.items():
        ctx = invocation(service["command"])
        assert service["restart"] == "unless-stopped", name
        assert seconds(service["stop_grace_period"]) > graceful_timeout(), name
        # Its data in a volume at the data directory the image declares.
        env = service_env(service)
        assert env["CAREERS_DATA_DIR"] == IMAGE_DATA_DIR
        volume, _, target = service["volumes"][0].partition(":")
        assert target == IMAGE_DATA_DIR and volume in load(path)[0]["volumes"], name
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"], name
        if command_path(ctx) != "serve":
            continue
        port = ctx.params["port"]
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"], "loopback only, for a proxy"
        probe = service["healthcheck"]["test"]
        assert probe[:2] == ["CMD", "python"], name
        url = LOCAL_URL.search(" ".join(probe))
        assert url and int(url[1]) == port, probe
        assert url[2] == "/healthz" and answered(url[2]) == 200


def test_compose_yaml_is_one_service_with_sqlite(answered):
    services = careers_services(COMPOSE)
    assert list(services) == ["careers"] == list(load(COMPOSE)[0]["services"])
    ctx = invocation(services["careers"]["command"])
    assert command_path(ctx) == "serve" and not ctx.params["no_worker"], "it delivers too"
    env = service_env(services["careers"])
    assert "CAREERS_DATABASE_URL" not in env, "SQLite in the data directory"
    known(list(env))


def test_compose_postgres_has_web_worker_and_a_healthy_database():
    document = load(COMPOSE_POSTGRES)[0]
    services = careers_services(COMPOSE_POSTGRES)
    assert set(services) == {"web", "worker"}
    web, worker = invocation(services["web"]["command"]), invocation(services["worker"]["command"])
    assert command_path(web) == "serve" and web.params["no_worker"] is True
    assert command_path(worker) == "worker"
    # The image checks /healthz, which a worker does not answer.
    assert services["worker"]["healthcheck"] == {"disable": True}
    postgres = document["services"]["postgres"]
    assert re.fullmatch(r"postgres:1[56](\.\d+)?", postgres["image"])
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert postgres["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    for name, service in services.items():
        assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}, name
        env = service_env(service)
        known(list(env))
        # The URL Compose builds (its ${…} filled in) is one careers accepts, on the service.
        url = re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "pw", env["CAREERS_DATABASE_URL"])
        storage = load_storage_settings({"CAREERS_DATABASE_URL": url})
        assert storage.postgres
        assert url == "postgresql://careers:pw@postgres:5432/careers"
        assert postgres["environment"]["POSTGRES_USER"] == "careers"
        assert postgres["environment"]["POSTGRES_DB"] == "careers"


def test_every_example_runs_the_image_of_this_release():
    """scripts/build-image tags personio-careers:<version>; an example naming another tag
    would run an old release, or none."""
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    images = [
        s["image"] for path in (COMPOSE, COMPOSE_POSTGRES) for s in careers_services(path).values()
    ]
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for doc in load(path):
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            images += [
                c["image"] for c in spec.get("containers", []) if c["image"].startswith(IMAGE)
            ]
    assert len(images) >= 5
    assert set(images) == {f"{IMAGE}:{version}"}


def test_the_env_file_is_never_committed():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "careers.env" in ignored and ".env" in ignored
    # Every secret is left empty in the example: an unfilled one stops start-up by name.
    example = env_example()
    for name in ("CAREERS_SECRET_KEY", "CAREERS_PERSONIO_RECRUITING_TOKEN"):
        assert example[name] == ""


# -- deploy/kubernetes ---------------------------------------------------------------------


def kubernetes() -> list[dict[str, Any]]:
    return [doc for path in sorted(KUBERNETES.glob("*.yaml")) for doc in load(path)]


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in kubernetes() if doc["kind"] == kind}


def container(workload: dict[str, Any]) -> dict[str, Any]:
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    assert only["image"].split(":")[0] == IMAGE
    return only


def environment(workload: dict[str, Any]) -> dict[str, str]:
    """The variables a workload's container gets from its ConfigMaps and Secrets."""
    maps, secrets = of_kind("ConfigMap"), of_kind("Secret")
    env: dict[str, str] = {}
    for source in container(workload)["envFrom"]:
        (kind, ref), *_ = source.items()
        found = (maps if kind == "configMapRef" else secrets).get(ref["name"])
        assert found is not None or ref.get("optional"), f"{ref['name']} is not in the files"
        if found is not None:
            env.update(found.get("data") or found.get("stringData") or {})
    return env


def workloads() -> dict[str, dict[str, Any]]:
    return {**of_kind("Deployment"), **of_kind("Job")}


def test_kubernetes_commands_are_real_and_split_web_from_worker():
    deployments, jobs = of_kind("Deployment"), of_kind("Job")
    assert set(deployments) == {"careers-web", "careers-worker"}
    web = invocation(container(deployments["careers-web"])["args"])
    assert command_path(web) == "serve" and web.params["no_worker"] is True
    assert deployments["careers-web"]["spec"]["replicas"] >= 2
    worker = invocation(container(deployments["careers-worker"])["args"])
    assert command_path(worker) == "worker"
    (job,) = jobs.values()
    assert command_path(invocation(container(job)["args"])) == "db upgrade"


def test_kubernetes_probes_ask_real_routes_on_the_serve_port(answered):
    web = of_kind("Deployment")["careers-web"]
    spec = container(web)
    port = invocation(spec["args"]).params["port"]
    (named,) = spec["ports"]
    assert named["containerPort"] == port
    probes = {kind: spec[kind]["httpGet"] for kind in ("livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    for probe in [*probes.values(), spec["startupProbe"]["httpGet"]]:
        assert probe["port"] in {named["name"], port}
        assert answered(probe["path"]) == 200, probe["path"]
    assert "ports" not in container(of_kind("Deployment")["careers-worker"]), "no HTTP there"
    (service,) = of_kind("Service").values()
    assert service["spec"]["ports"][0]["targetPort"] in {named["name"], port}
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert web["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert web["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > graceful_timeout()


def test_kubernetes_variables_are_settings_and_secrets_stay_in_the_secret():
    for name, workload in workloads().items():
        env = environment(workload)
        known(list(env))
        assert "CAREERS_DATABASE_URL" in env, f"{name}: several replicas need PostgreSQL"
    (secret,) = of_kind("Secret").values()
    for name in ("CAREERS_SECRET_KEY", "CAREERS_PERSONIO_RECRUITING_TOKEN", "CAREERS_DATABASE_URL"):
        assert name in secret["stringData"] and secret["stringData"][name] == ""
        for config in of_kind("ConfigMap").values():
            assert name not in config["data"], f"{name} belongs in the Secret"


def test_kubernetes_migrations_run_on_start_unless_the_job_turns_them_off():
    switch = of_kind("ConfigMap")["careers-migrations"]
    assert switch["data"] == {"CAREERS_MIGRATE_ON_START": "false"}
    known(list(switch["data"]))
    for name, deployment in of_kind("Deployment").items():
        refs = [source.get("configMapRef", {}) for source in container(deployment)["envFrom"]]
        # Optional: without migrate-job.yaml applied, the pods migrate when they start.
        assert {"name": "careers-migrations", "optional": True} in refs, name
    (job,) = of_kind("Job").values()
    assert "CAREERS_MIGRATE_ON_START" not in environment(job)


def test_kubernetes_runs_as_the_image_user_on_a_read_only_root():
    for name, workload in workloads().items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == IMAGE_UID, name
        spec = container(workload)
        assert spec["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert spec["securityContext"]["allowPrivilegeEscalation"] is False, name
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in spec["volumeMounts"]}
        assert "emptyDir" in mounts["/tmp"], name
        # The data directory lies inside a volume, below its root: careers makes the
        # directory 0700, which only its owner may do, and a volume's root is root's.
        data_dir = PurePosixPath(environment(workload)["CAREERS_DATA_DIR"])
        assert any(PurePosixPath(path) in data_dir.parents for path in mounts), name


# -- compose.postgres.yaml's web + worker, run for real ------------------------------------


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "careers.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.system
def test_web_and_worker_from_compose_postgres_deliver_an_application(
    sandbox, sandbox_server, fresh_pg_url, tmp_path
):
    services = careers_services(COMPOSE_POSTGRES)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # What this machine has instead of the containers' world: the sandbox for Personio, the
    # test database for the postgres service, a directory for each volume, the port.
    replaced = {
        "CAREERS_PERSONIO_SUBDOMAIN": None,
        "CAREERS_PERSONIO_COMPANY_ID": SANDBOX_COMPANY_ID,
        "CAREERS_PERSONIO_RECRUITING_TOKEN": SANDBOX_TOKEN,
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_PUBLIC_URL": base,
        "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
        "CAREERS_PRIVACY_URL": "https://nordlicht.example/privacy",
        "CAREERS_DATABASE_URL": as_url(fresh_pg_url),
        "CAREERS_DATA_DIR": None,
    }
    added = {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_PERSONIO_API_URL": sandbox_server.url,
        "CAREERS_MIN_FILL_SECONDS": "0",  # the test fills the form faster than a person
    }
    procs: dict[str, subprocess.Popen] = {}

    def environment_of(name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CAREERS_")}
        from_file = service_env(services[name])
        # Only what the file leaves for the operator, or names the containers' world, changes.
        assert {k for k, v in from_file.items() if not v} <= set(replaced), from_file
        env.update(from_file)
        env.update({k: v for k, v in replaced.items() if v is not None})
        env.pop("CAREERS_PERSONIO_SUBDOMAIN")
        env.update(added, CAREERS_DATA_DIR=str(tmp_path / f"{name}-data"))
        return env

    try:
        web_args = [*services["web"]["command"], "--host", "127.0.0.1", "--port", str(port)]
        procs["web"] = start(
            [*web_args, "--workers", "1"], environment_of("web"), tmp_path / "web.log"
        )

        def up() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return procs["web"].poll() is not None

        assert eventually(up, 60, every=0.2) and procs["web"].poll() is None, (
            tmp_path / "web.log"
        ).read_text(errors="replace")[-3000:]

        # Compose's health check itself, pointed at this port: it passes, and fails when
        # nothing answers.
        probe = services["web"]["healthcheck"]["test"][2:]
        for where, code in ((port, 0), (free_port(), 1)):
            argv = [sys.executable, *[arg.replace(":8000/", f":{where}/") for arg in probe]]
            assert subprocess.run(argv, capture_output=True, timeout=30).returncode == code

        # An application taken by web waits in the outbox until the worker is there.
        page = httpx.get(f"{base}/en/jobs/{JOB}/apply", timeout=20)
        assert page.status_code == 200
        cv = filegen.make_pdf(tmp_path / "cv.pdf")
        fields = valid_fields(
            token_of(page.text), custom_attribute_1002=None, phone=None, birthday=None, gender=None
        )
        body, content_type = encode(fields, [("cv", cv, "cv.pdf", "application/pdf")])
        answer = httpx.post(
            f"{base}/en/jobs/{JOB}/apply",
            content=body,
            headers={"Content-Type": content_type, "Origin": base},
            timeout=30,
        )
        assert answer.status_code == 303, answer.text[:2000]

        procs["worker"] = start(
            services["worker"]["command"], environment_of("worker"), tmp_path / "worker.log"
        )
        database = open_database(fresh_pg_url)
        outbox = database.outbox
        try:
            assert eventually(lambda: outbox.counts() == {"delivered": 1}, 90, every=0.5), (
                outbox.counts(),
                (tmp_path / "worker.log").read_text(errors="replace")[-3000:],
            )
        finally:
            database.close()
        (received,) = sandbox.received_applications
        assert received["body"]["email"] == fields["email"]
        assert procs["worker"].poll() is None
        # Web took it and the worker sent it: web never started a delivery loop.
        assert "delivery attempt" in (tmp_path / "worker.log").read_text(errors="replace")
        assert "delivery worker started" not in (tmp_path / "web.log").read_text(errors="replace")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
