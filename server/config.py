"""Configuration classes; the environment chooses the database and secrets."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path(os.environ.get("FIELDSYNC_DATA_DIR", Path.cwd() / "data"))


def default_database_url() -> str:
    """The database from FIELDSYNC_DATABASE_URL, else an SQLite file in the data folder."""
    url = os.environ.get("FIELDSYNC_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    DEFAULT_DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATA_DIR / 'fieldsync.sqlite'}"


def normalise_database_url(url: str) -> str:
    """Point plain postgres:// URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("FIELDSYNC_SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    API_TITLE = "fieldsync"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # Largest request body the API accepts (blobs have their own limit).
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    TOKEN_TTL_HOURS = int(os.environ.get("FIELDSYNC_TOKEN_TTL_HOURS", "24"))
    DEVICE_TOKEN_TTL_DAYS = int(os.environ.get("FIELDSYNC_DEVICE_TOKEN_TTL_DAYS", "30"))
    # Argon2id cost; tests lower it so the suite stays fast.
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST = 19 * 1024
    DATA_DIR = str(DEFAULT_DATA_DIR)
    JSON_SORT_KEYS = False


class DevelopmentConfig(Config):
    """Local runs and the demo."""

    def __init__(self) -> None:
        self.SQLALCHEMY_DATABASE_URI = default_database_url()


class ProductionConfig(Config):
    """Several workers against PostgreSQL; secrets must come from the environment."""

    def __init__(self) -> None:
        self.SQLALCHEMY_DATABASE_URI = default_database_url()
        if self.SECRET_KEY == "dev-only-not-secret":
            raise RuntimeError("set FIELDSYNC_SECRET_KEY in production")


class TestingConfig(Config):
    """Tests: a database handed in by the fixture, cheap password hashing."""

    __test__ = False  # not a pytest class
    TESTING = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 64

    def __init__(self, database_url: str) -> None:
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
