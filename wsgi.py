"""WSGI entry point for any server: `gunicorn wsgi:app`. Configuration from CAREERS_*.

A server started this way neither delivers nor sends mail: run `careers worker` beside it."""

import os

from careers import create_app
from careers.cli.common import warn_unknown_variables

warn_unknown_variables(os.environ)
app = create_app()
