"""Every page validates with the Nu HTML checker (vnu.jar, from the npm package `vnu-jar`),
in the field configurations the form file allows: one JVM run over all rendered pages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .applying import apply_env, open_form, send, valid_fields

VNU_CACHE = Path(os.environ.get("CAREERS_VNU_DIR", Path.home() / ".cache" / "careers-vnu"))
VNU_JAR = VNU_CACHE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# Every field type, required and not, and every system field shown or required.
FORM = """
[system]
phone = "required"
location = "optional"
birthday = "required"
gender = "optional"
available_from = "required"
salary_expectations = "optional"
message = "required"

[[field]]
id = "custom_attribute_1"
type = "text"
required = true
label = { en = "Portfolio", de = "Portfolio" }

[[field]]
id = "custom_attribute_2"
type = "textarea"
required = false
label = { en = "About you", de = "Über Sie" }

[[field]]
id = "custom_attribute_3"
type = "date"
required = true
label = { en = "Earliest start", de = "Frühester Beginn" }

[[field]]
id = "custom_attribute_4"
type = "select"
required = false
label = { en = "Source", de = "Quelle" }
options = [ { value = "web", label = { en = "Web", de = "Web" } } ]

[[field]]
id = "custom_attribute_5"
type = "checkbox"
required = true
label = { en = "Work permit", de = "Arbeitserlaubnis" }

[[field]]
id = "custom_attribute_6"
type = "number"
required = false
label = { en = "Years", de = "Jahre" }
"""
HIDDEN = '[system]\nphone = "hidden"\nbirthday = "hidden"\nmessage = "hidden"\n'


@pytest.fixture(scope="session")
def vnu() -> Path:
    """vnu.jar, installed once with npm into a cache directory."""
    if not VNU_JAR.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install vnu-jar"
        VNU_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(VNU_CACHE), "vnu-jar"], check=True)
    assert shutil.which("java"), "Java 11+ is needed to run the Nu HTML checker"
    return VNU_JAR


def _pages(make_app, sandbox_server, tmp_path: Path, form: str, name: str) -> dict[str, str]:
    """The pages of one configuration, by a name for the report."""
    (tmp_path / name).mkdir()
    env = apply_env(sandbox_server.url, tmp_path / name)
    Path(env["form_file"]).write_text(form, encoding="utf-8")
    client = make_app(**env).test_client()
    pages = {}
    for path in (
        "/en/jobs",
        "/de/jobs?department=Engineering",
        "/en/jobs?q=nothing-matches-this",
        "/en/jobs/1842958",
        "/de/jobs/1842958",
        "/en/jobs/1842958/apply",
        "/de/jobs/1842958/apply",
        "/embed/en/jobs",
        "/embed/en/jobs/1842958/apply",
        "/en/jobs/999999999",
    ):
        response = client.get(path, follow_redirects=True)
        pages[f"{name}{path}"] = response.get_data(as_text=True)
    # An invalid submission: the form again with every error shown.
    invalid = send(client, {**valid_fields(open_form(client)), "email": "not-an-address"}, [])
    pages[f"{name}/apply-422"] = invalid.get_data(as_text=True)
    return pages


def test_every_page_validates_with_the_nu_checker(make_app, sandbox, sandbox_server, tmp_path, vnu):
    pages = {
        **_pages(make_app, sandbox_server, tmp_path, FORM, "all-fields"),
        **_pages(make_app, sandbox_server, tmp_path, HIDDEN, "hidden"),
    }
    folder = tmp_path / "pages"
    folder.mkdir()
    files = {}
    for number, (name, html) in enumerate(pages.items()):
        path = folder / f"page{number}.html"
        path.write_text(html, encoding="utf-8")
        files[path.name] = name
    checked = subprocess.run(
        ["java", "-jar", str(vnu), "--format", "json", "--stdout",
         *(str(folder / f"page{n}.html") for n in range(len(files)))],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    report = json.loads(checked.stdout)
    errors = [
        f"{files.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))}:{m.get('lastLine')}: {m['message']}"
        for m in report["messages"]
        if m["type"] == "error"
    ]
    assert errors == [], "\n".join(errors)
