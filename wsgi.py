"""WSGI entry point for any server: `gunicorn wsgi:app`. Configuration from CAREERS_*."""

from careers import create_app

app = create_app()
