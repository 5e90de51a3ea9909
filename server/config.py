"""Configuration classes; the environment chooses the database and secrets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
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


class ConfigError(RuntimeError):
    """The environment does not describe a server that can run."""


class ProductionConfig(Config):
    """Several workers against PostgreSQL, configured by the environment only (docs/deploy.md lists it).

    Refuses to start without a secret key or with anything but PostgreSQL: several worker
    processes on one SQLite file would serialise every write and lose the change-signal guarantees.
    """

    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        url = env.get("FIELDSYNC_DATABASE_URL", "")
        if not url:
            raise ConfigError("set FIELDSYNC_DATABASE_URL to the PostgreSQL database (postgresql://user@host/db)")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)
        if not self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            raise ConfigError("production needs PostgreSQL: FIELDSYNC_DATABASE_URL must be postgresql://...")
        self.SECRET_KEY = env.get("FIELDSYNC_SECRET_KEY", "")
        if not self.SECRET_KEY or self.SECRET_KEY == "dev-only-not-secret" or len(self.SECRET_KEY) < 16:
            raise ConfigError("set FIELDSYNC_SECRET_KEY (at least 16 characters) in production")
        self.DATA_DIR = env.get("FIELDSYNC_DATA_DIR", self.DATA_DIR)
        self.TOKEN_TTL_HOURS = _int(env, "FIELDSYNC_TOKEN_TTL_HOURS", 24)
        self.DEVICE_TOKEN_TTL_DAYS = _int(env, "FIELDSYNC_DEVICE_TOKEN_TTL_DAYS", 30)
        self.MAX_CONTENT_LENGTH = _int(env, "FIELDSYNC_MAX_CONTENT_LENGTH", Config.MAX_CONTENT_LENGTH)
        self.BLOB_MAX_BYTES = _int(env, "FIELDSYNC_BLOB_MAX_BYTES", 5 * 1024 * 1024)
        self.LOG_FORMAT = env.get("FIELDSYNC_LOG_FORMAT", "json")
        self.LOG_LEVEL = env.get("FIELDSYNC_LOG_LEVEL", "INFO")
        self.SESSION_COOKIE_SECURE = env.get("FIELDSYNC_SECURE_COOKIES", "true").lower() != "false"
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            "pool_pre_ping": True,
            # SQL parameters are customers' data: keep them out of exception messages and logs.
            "hide_parameters": True,
            "pool_size": _int(env, "FIELDSYNC_DB_POOL_SIZE", 5),
            "max_overflow": _int(env, "FIELDSYNC_DB_MAX_OVERFLOW", 10),
            "pool_recycle": _int(env, "FIELDSYNC_DB_POOL_RECYCLE", 1800),
            "connect_args": {"connect_timeout": _int(env, "FIELDSYNC_DB_CONNECT_TIMEOUT", 5)},
        }


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


@dataclass(frozen=True)
class ServerSettings:
    """How ``fieldsync serve --production`` runs gunicorn (environment only; see docs/deploy.md)."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    # Each online tablet holds one /sync/events stream (a thread waiting on a queue: cheap), so a
    # worker needs a thread per stream it serves plus headroom for sync requests (docs/deploy.md).
    threads: int = 128
    timeout: int = 60
    graceful_timeout: int = 30
    forwarded_allow_ips: str = "127.0.0.1"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        """Read FIELDSYNC_HOST, _PORT, _WORKERS, _THREADS, _TIMEOUT, _GRACEFUL_TIMEOUT, _FORWARDED_ALLOW_IPS."""
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("FIELDSYNC_HOST", cls.host),
            port=_int(env, "FIELDSYNC_PORT", cls.port),
            workers=_int(env, "FIELDSYNC_WORKERS", os.cpu_count() or 1),
            threads=_int(env, "FIELDSYNC_THREADS", cls.threads),
            timeout=_int(env, "FIELDSYNC_TIMEOUT", cls.timeout),
            graceful_timeout=_int(env, "FIELDSYNC_GRACEFUL_TIMEOUT", cls.graceful_timeout),
            forwarded_allow_ips=env.get("FIELDSYNC_FORWARDED_ALLOW_IPS", cls.forwarded_allow_ips),
        )


class TestingConfig(Config):
    """Tests: a database handed in by the fixture, cheap password hashing."""

    __test__ = False  # not a pytest class
    TESTING = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 64

    def __init__(self, database_url: str) -> None:
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
