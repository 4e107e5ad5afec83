"""CAREERS_FORM_FILE: the documented shape loads; every mistake names its line (docs/applications.md)."""

from __future__ import annotations

import pytest

from careers.applications.form import DEFAULT_SYSTEM, FormFileError, FormSchema, load_form
from careers.config import ConfigError, load_settings

LANGS = ("en", "de")

SPEC_EXAMPLE = """\
[system]                      # hidden | optional | required, for each optional system field
phone = "optional"
birthday = "hidden"

[[field]]
id = "custom_attribute_123"   # Personio's API name of the applicant attribute
type = "select"
required = true
label = { en = "How did you hear about us?", de = "Wie haben Sie von uns erfahren?" }
options = [ { value = "linkedin", label = { en = "LinkedIn", de = "LinkedIn" } },
            { value = "friend",   label = { en = "A friend", de = "Freunde" } } ]
positions = [2140231]         # optional: only these positions ask it
"""


def write(tmp_path, text):
    path = tmp_path / "form.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_spec_example_loads(tmp_path):
    schema = load_form(write(tmp_path, SPEC_EXAMPLE), LANGS)
    assert schema.system["phone"] == "optional" and not schema.shown("birthday")
    [field] = schema.fields
    assert field.id == "custom_attribute_123" and field.required and field.type == "select"
    assert [o.value for o in field.options] == ["linkedin", "friend"]
    assert field.label_for("de") == "Wie haben Sie von uns erfahren?"
    assert field.applies_to(2140231) and not field.applies_to(1)
    assert schema.fields_for(1) == ()


def test_no_file_means_the_short_form():
    """Issue 23: names, email, CV and consent required; cover letter and message optional;
    nothing else asked unless the form file says so."""
    schema = load_form(None, LANGS)
    assert schema == FormSchema()
    assert schema.system == DEFAULT_SYSTEM
    assert [name for name in DEFAULT_SYSTEM if schema.shown(name)] == ["message"]
    assert not schema.required("message")
    assert schema.document_inputs == ("cv", "cover-letter")
    assert schema.documents["cv"] == "required"
    assert schema.documents["cover-letter"] == "optional"
    assert schema.fields_for(1) == ()


def test_the_form_file_can_still_require_the_cover_letter_and_the_message(tmp_path):
    text = '[system]\nmessage = "required"\nphone = "optional"\n[documents]\ncover-letter = "required"\n'
    schema = load_form(write(tmp_path, text), LANGS)
    assert schema.required("message") and schema.shown("phone") and not schema.required("phone")
    assert schema.documents["cover-letter"] == "required"
    assert schema.document_inputs == ("cv", "cover-letter")


def test_documents_table_chooses_file_inputs(tmp_path):
    text = '[documents]\ncv = "optional"\nwork-sample = "required"\ncertificate = "optional"\n'
    schema = load_form(write(tmp_path, text), LANGS)
    assert schema.document_inputs == ("cv", "cover-letter", "certificate", "work-sample")
    assert schema.documents["work-sample"] == "required"


def test_the_time_estimate_follows_the_documented_rule(tmp_path):
    """docs/applications.md: 15 s a short field, 60 s a long text, 30 s a document input,
    optional ones half, rounded to the nearest minute, at least one."""
    # The short form: 4 short (names, email, consent) + CV = 90 s required; cover letter
    # 15 s and message 30 s optional: 135 s, about 2 minutes.
    assert FormSchema().minutes(1) == 2
    # Only what must be asked: 60 s + 30 s = 1.5 minutes, rounded up.
    bare = '[system]\nmessage = "hidden"\n[documents]\ncover-letter = "hidden"\n'
    assert load_form(write(tmp_path, bare), LANGS).minutes(1) == 2
    no_cv = bare + 'cv = "hidden"\n'
    assert load_form(write(tmp_path, no_cv), LANGS).minutes(1) == 1  # 60 s
    # The long form of earlier versions: + phone, location, available from, salary (4 x 7.5 s)
    # and certificates and other documents (2 x 15 s): 195 s, about 3 minutes.
    old = (
        '[system]\nphone = "optional"\nlocation = "optional"\navailable_from = "optional"\n'
        'salary_expectations = "optional"\n[documents]\ncertificate = "optional"\n'
        'other = "optional"\n'
    )
    assert load_form(write(tmp_path, old), LANGS).minutes(1) == 3
    # Questions of the form file count only for the positions that ask them.
    questions = (
        '[system]\nmessage = "required"\n'
        '[[field]]\nid = "custom_attribute_1"\ntype = "textarea"\nrequired = true\n'
        'label = "Why us?"\npositions = [7]\n'
    )
    schema = load_form(write(tmp_path, questions), LANGS)
    assert schema.minutes(1) == 3  # 60 + 30 + 60 (message) + 15 (cover letter): 165 s
    assert schema.minutes(7) == 4  # + 60 s: 225 s


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[system]\nphone = "optional"\nfax = "optional"\n', 3, "unknown system entry 'fax'"),
        ('[system]\nphone = "sometimes"\n', 2, "phone must be one of hidden, optional, required"),
        ('[sytem]\nphone = "optional"\n', 1, "unknown table or key 'sytem'"),
        (
            '[[field]]\nid = "custom_attribute_1"\ntype = "text"\nlabel = "x"\ncolour = "red"\n',
            5,
            "unknown key 'colour'",
        ),
        ('[[field]]\nid = "attr_1"\ntype = "text"\nlabel = "x"\n', 2, "Personio's API name"),
        (
            '[[field]]\nid = "custom_attribute_1"\ntype = "radio"\nlabel = "x"\n',
            3,
            "type must be one of",
        ),
        (
            '[[field]]\nid = "custom_attribute_1"\ntype = "text"\nrequired = "yes"\nlabel = "x"\n',
            4,
            "true or false",
        ),
        ('[[field]]\nid = "custom_attribute_1"\ntype = "text"\n', 1, "label must be"),
        (
            '[[field]]\nid = "custom_attribute_1"\ntype = "select"\nlabel = "x"\n',
            1,
            "needs options",
        ),
        (
            '[[field]]\nid = "custom_attribute_1"\ntype = "text"\nlabel = "x"\noptions = []\n',
            5,
            "only apply to select",
        ),
        (
            '[[field]]\nid = "custom_attribute_1"\ntype = "text"\nlabel = "a"\n\n'
            '[[field]]\nid = "custom_attribute_1"\ntype = "text"\nlabel = "b"\n',
            7,
            "used twice",
        ),
        (
            '[[field]]\nid = "custom_attribute_1"\ntype = "text"\nlabel = "x"\npositions = ["12"]\n',
            5,
            "position ids",
        ),
        ('[documents]\ncv = "always"\n', 2, "cv must be one of"),
        ("field = [1]\n", 1, "must be a [[field]] table"),
        ('[documents]\nphoto = "optional"\n', 2, "unknown documents entry 'photo'"),
    ],
)
def test_mistakes_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(FormFileError) as info:
        load_form(path, LANGS)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert message in str(info.value)


def test_toml_syntax_errors_keep_their_position(tmp_path):
    path = write(tmp_path, '[system]\nphone = "optional\n')
    with pytest.raises(FormFileError, match=r"line 2"):
        load_form(path, LANGS)


def test_bad_form_file_fails_start_up_with_one_line(tmp_path):
    path = write(tmp_path, '[system]\nphone = "maybe"\n')
    env = {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": "k" * 20,
        "CAREERS_FORM_FILE": str(path),
    }
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    [line] = info.value.problems
    assert line.startswith(f"CAREERS_FORM_FILE: {path}:2: phone must be one of")
