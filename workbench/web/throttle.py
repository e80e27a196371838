"""Sign-in throttling: a sliding one-minute window of failed attempts per (username, client address).

Kept in memory per application process: enough to make password guessing slow on a
single-server deployment, and forgotten on restart (which an attacker cannot trigger).
"""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW_SECONDS = 60.0


class LoginThrottle:
    def __init__(self, attempts_per_minute: int, clock=time.monotonic):
        self.limit = max(1, attempts_per_minute)
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self.clock()
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > WINDOW_SECONDS:
            failures.popleft()
        return failures

    def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before another attempt is allowed (0 = allowed now)."""
        key = ((username or "").strip().lower(), address)
        with self._lock:
            failures = self._recent(key)
            if len(failures) < self.limit:
                return 0
            return max(1, int(WINDOW_SECONDS - (self.clock() - failures[0])) + 1)

    def failed(self, username: str, address: str) -> None:
        key = ((username or "").strip().lower(), address)
        with self._lock:
            self._recent(key).append(self.clock())

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(((username or "").strip().lower(), address), None)
