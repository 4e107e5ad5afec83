"""One source for facets, codes and limits: every table that names them covers the same set."""

from __future__ import annotations

import pytest

from careers.applications.rules import LIMITS
from careers.jobs.search import CODE_ORDER, FACETS, parse_query
from careers.web.present import CODE_LABELS, FACET_NAMES
from careers.web.site_links import LIST_PARAMS


def test_every_facet_has_a_name_and_travels_in_list_links():
    assert set(FACET_NAMES) == set(FACETS)
    assert set(FACETS) <= set(LIST_PARAMS)


def test_every_personio_code_has_a_label():
    assert set(CODE_LABELS) == set(CODE_ORDER)
    for facet, codes in CODE_ORDER.items():
        assert set(CODE_LABELS[facet]) == set(codes), facet


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, ({}, "", "newest", 1)),
        ({"q": ["  robot  "], "sort": ["title"], "page": ["3"]}, ({}, "robot", "title", 3)),
        ({"sort": ["cheapest"], "page": ["-1"]}, ({}, "", "newest", 1)),
        ({"page": ["x"], "q": ["a" * 500]}, ({}, "a" * 200, "newest", 1)),
        ({"page": ["99999999999"]}, ({}, "", "newest", 1)),
        (
            {"department": ["Engineering", " ", "Engineering"], "nonsense": ["1"]},
            ({"department": ("Engineering",)}, "", "newest", 1),
        ),
    ],
)
def test_list_page_and_api_read_queries_the_same_way(args, expected):
    query = parse_query(args)
    assert (query.filters, query.q, query.sort, query.page) == expected


def test_the_form_states_the_limits_it_enforces(make_app, sandbox_server, tmp_path):
    from .applying import JOB, apply_env

    client = make_app(**apply_env(sandbox_server.url, tmp_path)).test_client()
    page = client.get(f"/en/jobs/{JOB}/apply").get_data(as_text=True)
    assert f'data-max-file="{LIMITS.file_bytes}"' in page
    assert (
        f"up to {LIMITS.file_mb} MB per file, {LIMITS.total_mb} MB and {LIMITS.files} files" in page
    )
