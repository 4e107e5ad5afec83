"""The container image (Dockerfile, scripts/build-image) run the way operators run it, on
the host's docker: the demo from outside, `serve` delivering to the sandbox, a clean stop that
keeps what was accepted, the health status, `check`'s exit codes and the SBOM inside.

The image is the one scripts/build-image made (`personio-careers:latest`; .ci/run builds it
before the tests). Without docker or that image the tests that run it skip, except in CI;
the lock file's check needs neither."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN, SandboxServer

from . import filegen
from .applying import JOB, encode, token_of, valid_fields
from .servers import ROOT, eventually, free_port

IMAGE = "personio-careers:latest"
UID = "10001"
SECRET = "image-test-secret-0123456789abcdef"


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """One docker command; its output as text."""
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result


def _missing() -> str | None:
    """Why the image cannot be run here, or None."""
    if shutil.which("docker") is None:
        return "docker is not installed"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
        return "the docker daemon does not answer"
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        return f"no image {IMAGE}: build it with scripts/build-image"
    return None


@pytest.fixture(scope="module")
def image() -> str:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the image tests: {reason}")
        pytest.skip(reason)
    return IMAGE


class Containers:
    """Starts containers and volumes with unique names and removes them all afterwards."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.names: list[str] = []
        self.volumes: list[str] = []

    def volume(self) -> str:
        name = f"careers-test-{uuid.uuid4().hex[:12]}"
        docker("volume", "create", name)
        self.volumes.append(name)
        return name

    def run(self, *args: str, options: tuple[str, ...] = (), env: dict | None = None) -> str:
        """`docker run -d` with `options` before the image and the role and its `args` after."""
        name = f"careers-test-{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        env_args = [f"--env={key}={value}" for key, value in (env or {}).items()]
        docker("run", "-d", f"--name={name}", *options, *env_args, self.image, *args)
        return name

    def remove(self) -> None:
        for name in self.names:
            docker("rm", "-f", "-v", name, check=False)
        for name in self.volumes:
            docker("volume", "rm", "-f", name, check=False)


@pytest.fixture
def containers(image: str) -> Iterator[Containers]:
    made = Containers(image)
    yield made
    made.remove()


def state(name: str) -> dict:
    return json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)


def logs(name: str) -> str:
    result = docker("logs", name, check=False)
    return result.stdout + result.stderr


def answers(url: str, name: str, seconds: float = 60) -> None:
    """Until `url` answers 200; fails with the container's log when it does not."""

    def up() -> bool:
        try:
            return httpx.get(url, timeout=3).status_code == 200
        except httpx.TransportError:
            return False

    assert eventually(up, seconds, every=0.3), f"{url} did not answer:\n{logs(name)[-3000:]}"


def site_env(sandbox_server: SandboxServer, **extra: str) -> dict[str, str]:
    """A production configuration against the test sandbox (reached on the host network)."""
    return {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_PERSONIO_API_URL": sandbox_server.url,
        "CAREERS_PERSONIO_COMPANY_ID": SANDBOX_COMPANY_ID,
        "CAREERS_PERSONIO_RECRUITING_TOKEN": SANDBOX_TOKEN,
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
        "CAREERS_PRIVACY_URL": "https://nordlicht.example/privacy",
        "CAREERS_MIN_FILL_SECONDS": "0",
        **extra,
    }


def serve(
    containers: Containers, sandbox_server: SandboxServer, volume: str, *role: str
) -> tuple[str, str]:
    """`serve` (or `serve --no-worker`) on a free loopback port of the host network, with
    `volume` as its data; returns the container and its address once it answers."""
    port = free_port()
    name = containers.run(
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=1",
        *role,
        options=("--network=host", f"--volume={volume}:/data"),
        env=site_env(sandbox_server),
    )
    base = f"http://127.0.0.1:{port}"
    answers(f"{base}/healthz", name)
    return name, base


def submit(base: str, tmp_path, email: str) -> str:
    """The form as a browser sends it, with a real PDF; the receipt's address."""
    token = token_of(httpx.get(f"{base}/en/jobs/{JOB}/apply", timeout=10).text)
    fields = valid_fields(
        token, email=email, phone=None, birthday=None, gender=None, custom_attribute_1002=None
    )
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    body, content_type = encode(fields, [("cv", cv, "CV.pdf", "application/pdf")])
    response = httpx.post(
        f"{base}/en/jobs/{JOB}/apply",
        content=body,
        headers={"Content-Type": content_type, "Origin": base, "Sec-Fetch-Site": "same-origin"},
        timeout=30,
    )
    assert response.status_code == 303, response.text[:500]
    return response.headers["Location"]


def received(sandbox, email: str) -> Callable[[], bool]:
    return lambda: any(a["body"]["email"] == email for a in sandbox.received_applications)


def forwarded(base: str, receipt: str) -> bool:
    return "has been forwarded" in httpx.get(f"{base}{receipt}", timeout=10).text


@pytest.mark.system
def test_demo_answers_from_the_host(containers):
    """`docker run -p … IMAGE demo`: the site and its sandbox's pages answer outside."""
    site, sandbox_page = free_port(), free_port()
    name = containers.run(
        "demo",
        options=(f"--publish=127.0.0.1:{site}:5000", f"--publish=127.0.0.1:{sandbox_page}:5001"),
    )
    answers(f"http://127.0.0.1:{site}/en/jobs", name)
    page = httpx.get(f"http://127.0.0.1:{site}/en/jobs", timeout=10).text
    assert "Embedded Systems Engineer" in page
    answers(f"http://127.0.0.1:{sandbox_page}/_sandbox/applications", name)
    # The links it prints name where the host publishes it.
    assert "career site at http://127.0.0.1:5000/" in logs(name)


@pytest.mark.system
def test_serve_delivers_an_application_to_the_sandbox_as_non_root(
    containers, sandbox, sandbox_server, tmp_path
):
    name, base = serve(containers, sandbox_server, containers.volume())
    receipt = submit(base, tmp_path, "ada@example.com")
    assert eventually(received(sandbox, "ada@example.com"), 60, every=0.2), logs(name)[-3000:]
    [application] = sandbox.received_applications
    assert application["body"]["job_position_id"] == JOB
    assert [f["original_filename"] for f in application["body"]["files"]] == ["CV.pdf"]
    assert eventually(lambda: forwarded(base, receipt), 30, every=0.3)

    # Every process of the container (tini, gunicorn's arbiter and worker) runs as the
    # image's user, and the data directory is that user's alone.
    top = docker("top", name, "-o", "pid,uid,args").stdout.splitlines()[1:]
    uids = {line.split()[1] for line in top}
    assert uids == {UID}, top
    assert docker("exec", name, "stat", "-c", "%a %u", "/data").stdout.split() == ["700", UID]


@pytest.mark.system
def test_docker_stop_keeps_accepted_applications_and_data_survive_a_restart(
    containers, sandbox, sandbox_server, tmp_path
):
    """Accepted by a site that does not deliver, stopped, delivered by the `worker` role from
    the same volume, and the restarted site reads the outcome from it."""
    volume = containers.volume()
    site, base = serve(containers, sandbox_server, volume, "--no-worker")
    receipt = submit(base, tmp_path, "grace@example.com")
    assert sandbox.received_applications == []  # nothing here delivers

    # SIGTERM reaches gunicorn through tini: it drains and exits 0 (a kill would be 137).
    docker("stop", "--time=40", site, timeout=60)
    stopped = state(site)
    assert (stopped["Status"], stopped["ExitCode"]) == ("exited", 0), logs(site)[-3000:]

    worker = containers.run(
        "worker",
        options=("--network=host", f"--volume={volume}:/data", "--no-healthcheck"),
        env=site_env(sandbox_server),
    )
    assert eventually(received(sandbox, "grace@example.com"), 60, every=0.2), logs(worker)
    assert len(sandbox.received_applications) == 1
    docker("stop", "--time=40", worker, timeout=60)
    assert state(worker)["ExitCode"] == 0, logs(worker)[-3000:]

    docker("start", site)
    answers(f"{base}/healthz", site)
    assert forwarded(base, receipt)


@pytest.mark.system
def test_health_status_becomes_healthy(containers):
    """The image's own probe on /healthz; only the interval is shortened for the test."""
    name = containers.run(
        options=("--health-interval=1s",),
        env={
            "CAREERS_PERSONIO_FEED_URL": "http://127.0.0.1:9/xml",  # down: the site still lives
            "CAREERS_SECRET_KEY": SECRET,
            "CAREERS_PRIVACY_URL": "https://nordlicht.example/privacy",
        },
    )

    def health() -> str:
        return state(name).get("Health", {}).get("Status", "")

    assert health() in ("starting", "healthy")
    assert eventually(lambda: health() == "healthy", 90, every=0.5), (
        f"{health()}: {json.dumps(state(name).get('Health'))[-1500:]}\n{logs(name)[-2000:]}"
    )


@pytest.mark.system
def test_check_exits_as_documented(image, sandbox, sandbox_server):
    """2: a configuration error; 1: the site could not serve (a feed that is down and no copy
    of it); 0: it can serve."""

    def check(env: dict[str, str]) -> subprocess.CompletedProcess:
        env_args = [f"--env={key}={value}" for key, value in env.items()]
        return docker(
            "run", "--rm", "--network=host", *env_args, image, "check", check=False, timeout=180
        )

    bad = check({})
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "CAREERS_SECRET_KEY: required" in bad.stderr

    down = check(site_env(sandbox_server, CAREERS_PERSONIO_FEED_URL="http://127.0.0.1:9/xml"))
    assert down.returncode == 1, down.stdout + down.stderr
    assert "no last good copy" in down.stdout

    good = check(site_env(sandbox_server))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "careers check: ok" in good.stdout


def _locked() -> dict[str, str]:
    """What requirements.lock pins for Linux: normalised name -> version."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)(?: ; (.*?))?\s*\\?$", line)
        if match and "win32" not in (match[3] or ""):
            pins[_normal(match[1])] = match[2]
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.system
def test_the_image_carries_a_cyclonedx_sbom_of_its_python_packages(image, containers, tmp_path):
    """Valid CycloneDX JSON naming careers and every locked runtime dependency at its pin."""
    from cyclonedx.schema import OutputFormat, SchemaVersion
    from cyclonedx.validation import make_schemabased_validator

    name = f"careers-test-{uuid.uuid4().hex[:12]}"
    containers.names.append(name)
    docker("create", f"--name={name}", image)
    docker("cp", f"{name}:/opt/careers/sbom.cdx.json", str(tmp_path / "sbom.cdx.json"))
    text = (tmp_path / "sbom.cdx.json").read_text(encoding="utf-8")
    sbom = json.loads(text)
    assert sbom["bomFormat"] == "CycloneDX"
    version = SchemaVersion.from_version(sbom["specVersion"])
    errors = make_schemabased_validator(OutputFormat.JSON, version).validate_str(text)
    assert errors is None, errors
    assert sbom["metadata"]["component"]["name"] == "personio-careers"
    listed = {_normal(c["name"]): c["version"] for c in sbom["components"]}
    locked = _locked()
    assert len(locked) > 20 and "flask" in locked and "gunicorn" in locked
    assert {name: listed.get(name) for name in locked} == locked


_SANITISER_PROBE = """
from careers.personio import sanitize
cut = 'hi <a href="https://x'
print(sanitize.FAST_PATH, sanitize.sanitize_html(cut) == sanitize._CLEANER.clean(cut).strip())
"""


@pytest.mark.system
def test_the_images_python_cleans_cut_off_markup_with_nh3(image):
    """The image built on Debian's python3 (3.11.2, whose possessive repeats are broken) runs
    the sanitiser without its fast path; on a fixed Python the fast path refuses the block.
    Either way an unclosed link is cleaned as nh3 cleans it, not passed on as it came."""
    version = docker(
        "run",
        "--rm",
        "--entrypoint",
        "/opt/careers/bin/python",
        image,
        "-c",
        "import sys; print(*sys.version_info[:3])",
    ).stdout.split()
    probe = docker(
        "run", "--rm", "--entrypoint", "/opt/careers/bin/python", image, "-c", _SANITISER_PROBE
    ).stdout.split()
    fixed = tuple(int(part) for part in version) >= (3, 11, 5)
    assert probe == [str(fixed), "True"]


def test_the_lock_file_pins_every_dependency_of_pyproject_within_its_range():
    """A dependency added to pyproject.toml without regenerating requirements.lock would be
    missing from the image (pip installs only the lock): say so here, without docker."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _locked()
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = _normal(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: regenerate it"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]}: {line}"
        for extra in requirement.extras:  # psycopg[binary] brings psycopg-binary
            assert f"{name}-{extra}" in pins, f"{name}[{extra}] is not in requirements.lock"
