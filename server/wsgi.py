"""WSGI entry point for gunicorn: ``gunicorn server.wsgi:app``."""

from server import create_app
from server.config import ProductionConfig

app = create_app(ProductionConfig())
