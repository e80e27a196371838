"""Sign-in throttling: a sliding one-minute window of failed attempts per (username, client address),
and a wider one per address.

Kept in memory per application process: enough to make password guessing slow on a
single-server deployment, and forgotten on restart (which an attacker cannot trigger).
"""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW_SECONDS = 60.0
ADDRESS_FACTOR = 4  # attempts an address may make over all user names: this many times one name's limit
ANY_USER = "\x00any"  # the key of an address's attempts over all names (no user name holds a NUL)


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

    def attempt(self, username: str, address: str) -> int:
        """Count a sign-in attempt before its password is checked; seconds to wait (0: go ahead).

        Counted first, as a failure until ``succeeded`` says otherwise: checked first and counted after
        the ~0.1 s password hash, forty attempts sent at once all passed the check. An address also
        gets ADDRESS_FACTOR times the limit over all user names (one password tried on many names)."""
        keys = [((username or "").strip().lower(), address), (ANY_USER, address)]
        limits = [self.limit, self.limit * ADDRESS_FACTOR]
        with self._lock:
            now = self.clock()
            waits = [max(1, int(WINDOW_SECONDS - (now - failures[0])) + 1)
                     for key, limit in zip(keys, limits) if len(failures := self._recent(key)) >= limit]
            if waits:
                return max(waits)
            for key in keys:
                self._recent(key).append(now)
            return 0

    def succeeded(self, username: str, address: str) -> None:
        """The attempt was right: it no longer counts against the name (nor, once, the address)."""
        with self._lock:
            self._failures.pop(((username or "").strip().lower(), address), None)
            shared = self._failures.get((ANY_USER, address))
            if shared:
                shared.pop()
