"""Reading the environment for the settings: booleans, lists, and the embedded default's secret key file.

Kept apart from ``config.settings`` (which reads every variable) so that the
parsing rules are said once; nothing here reads a setting.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def certhub_env() -> str:
    """The deployment's kind: ``CERTHUB_ENV`` (or ``DJANGO_ENV``), ``development`` when unset."""
    return (os.environ.get("CERTHUB_ENV") or os.environ.get("DJANGO_ENV") or "development").strip().lower()


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable (1/true/yes/on)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def embedded_secret_key(path: Path) -> str:
    """The embedded default's SECRET_KEY: random, made by the first process that needs it, kept in ``path``."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        made = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(64) + "\n")
        try:
            os.link(made, path)  # atomic: of processes starting together, the first one's key is kept
        except FileExistsError:
            pass
        finally:
            made.unlink()
    return path.read_text().strip()
