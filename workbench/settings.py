"""Runtime configuration from the environment (``WORKBENCH_*``), via pydantic-settings.

Nothing secret has a default in the repository: the session-signing key is generated on first
use and kept in the data directory, readable only by its owner.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKBENCH_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///./workbench.db"
    data_dir: Path = Path("./data")
    secret_key: str | None = None
    upload_max_bytes: int = 25 * 1024 * 1024
    session_max_age: int = 12 * 3600
    login_attempts_per_minute: int = 5
    secure_cookies: bool = False
    # Addresses of reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated, e.g.
    # "127.0.0.1"). Empty: no header is, so nobody can pose as another address to the sign-in throttle.
    trusted_proxies: str = ""
    sqlite_busy_seconds: float = 15.0  # how long a write waits for another writer (an import) on SQLite
    # The address users reach the workbench at (e.g. "https://workbench.example.org"). The reconciliation
    # manifest builds its URLs, which carry the API token, from it; unset, from the request's own Host
    # header, which a client chooses (behind a shared cache or a careless proxy, another user's
    # OpenRefine could be sent to the host an attacker named, token and all).
    public_url: str | None = None

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def signing_key(self) -> str:
        """The configured key, or one generated once and stored under the data directory.

        Two processes starting on one fresh data directory (two workers, or two test runs side by side)
        must agree on one key: each writes its candidate to a private file and links it into place,
        which only the first can do; the others read the winner's key, complete since it was written
        before it became visible.
        """
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self._publish_key(path)
        key = path.read_text().strip()
        if not key:  # cookies signed with an empty key could be forged by anyone
            raise RuntimeError(f"{path} is empty: delete it (a new key is made; everyone signs in again) or "
                               "set WORKBENCH_SECRET_KEY")
        return key

    def _publish_key(self, path: Path) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd, candidate = tempfile.mkstemp(dir=self.data_dir, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(candidate, path)
            except FileExistsError:
                pass  # another process published its key first: everyone uses that one
            except OSError:  # a file system without hard links: created exclusively instead
                self._create_key(path, key)
        finally:
            os.unlink(candidate)

    @staticmethod
    def _create_key(path: Path, key: str) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as handle:
            handle.write(key)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
