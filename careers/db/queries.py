"""Statements by name, read once from the `.sql` files beside this module.

A file holds blocks that each start with `-- name: some_name`; the statement runs to the
next block (comments and a trailing `;` dropped). `queries/portable.sql` holds what both
databases run alike, `queries/<dialect>.sql` only the statements that really differ (a
dialect's block of the same name wins). Parameters are written `:name` everywhere and put in
the driver's style here, so each rule is written once.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

_BLOCK = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
# `:name`, but not the second colon of a PostgreSQL cast (`x::int4`).
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def parse(text: str) -> dict[str, str]:
    """The named statements of one file."""
    parts = _BLOCK.split(text)
    found: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = [line.split("--", 1)[0].rstrip() for line in body.splitlines()]
        statement = "\n".join(line for line in lines if line.strip()).strip().rstrip(";")
        if name in found:
            raise ValueError(f"query {name} is defined twice")
        found[name] = statement
    return found


def _in_style(statement: str, dialect: str) -> str:
    """SQLite reads `:name` as it is; psycopg wants `%(name)s` and a literal `%` doubled."""
    if dialect == "sqlite":
        return statement
    return _PARAM.sub(r"%(\1)s", statement.replace("%", "%%"))


@cache
def load(dialect: str) -> dict[str, str]:
    """Every statement of `dialect` ("sqlite" or "postgresql"), in the driver's style."""
    folder = files(__package__).joinpath("queries")
    statements = parse(folder.joinpath("portable.sql").read_text(encoding="utf-8"))
    statements |= parse(folder.joinpath(f"{dialect}.sql").read_text(encoding="utf-8"))
    return {name: _in_style(sql, dialect) for name, sql in statements.items()}
