"""Sign-in throttling: a sliding one-minute window of failed attempts per (username, client address),
a wider one per address, and one per user name over all addresses (guesses spread over many addresses, an
IPv6 block or proxies, still meet a cap; the price is that a name under such an attack waits too, at most
a minute after the attack stops).

Kept in memory per application process: enough to make password guessing slow on a
single-server deployment, and forgotten on restart (which an attacker cannot trigger). Anyone may
send names, so what is kept stays bounded: a name is cut to the longest a user can have, and names
with no failure left in the window are forgotten (every name sent once stayed for the life of the
process, up to the body limit each: 300 requests of 1 MB names held 290 MB).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from workbench.store.users import MAX_USERNAME

WINDOW_SECONDS = 60.0
ADDRESS_FACTOR = 4  # attempts an address may make over all user names: this many times one name's limit
ANY_USER = "\x00any"  # the key of an address's attempts over all names (no user name holds a NUL)
ACCOUNT_FACTOR = 4  # attempts one name may take over all addresses: this many times one address's limit
ANY_ADDRESS = "\x00any"  # the key of a name's attempts over all addresses (no address holds a NUL)


class LoginThrottle:
    def __init__(self, attempts_per_minute: int, clock=time.monotonic):
        self.limit = max(1, attempts_per_minute)
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    @staticmethod
    def _name(username: str) -> str:
        """The key of a name: no user's name is longer than MAX_USERNAME, so neither is a key."""
        return (username or "")[: MAX_USERNAME + 1].strip().lower()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        """The key's failures within the window (an empty one, not kept, when it has none)."""
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and now - failures[0] > WINDOW_SECONDS:
            failures.popleft()
        return failures

    def _sweep(self, now: float) -> None:
        """Forget keys with no failure left in the window; at most once a window, so O(1) per attempt."""
        if now - self._swept < WINDOW_SECONDS:
            return
        self._swept = now
        for key in [k for k, failures in self._failures.items() if not failures or now - failures[-1] > WINDOW_SECONDS]:
            del self._failures[key]

    def __len__(self) -> int:
        """How many (name, address) keys are held: what the sweep keeps bounded."""
        return len(self._failures)

    def attempt(self, username: str, address: str) -> int:
        """Count a sign-in attempt before its password is checked; seconds to wait (0: go ahead).

        Counted first, as a failure until ``succeeded`` says otherwise: checked first and counted after
        the ~0.1 s password hash, forty attempts sent at once all passed the check. An address also
        gets ADDRESS_FACTOR times the limit over all user names (one password tried on many names)."""
        name = self._name(username)
        keys = [(name, address), (ANY_USER, address), (name, ANY_ADDRESS)]
        limits = [self.limit, self.limit * ADDRESS_FACTOR, self.limit * ACCOUNT_FACTOR]
        with self._lock:
            now = self.clock()
            self._sweep(now)
            waits = [max(1, int(WINDOW_SECONDS - (now - failures[0])) + 1)
                     for key, limit in zip(keys, limits) if len(failures := self._recent(key, now)) >= limit]
            if waits:
                return max(waits)
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
            return 0

    def succeeded(self, username: str, address: str) -> None:
        """The attempt was right: it no longer counts against the name (nor, once, the address)."""
        with self._lock:
            name = self._name(username)
            self._failures.pop((name, address), None)
            for key in ((ANY_USER, address), (name, ANY_ADDRESS)):
                shared = self._failures.get(key)
                if shared:
                    shared.pop()
