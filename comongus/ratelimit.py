"""A token bucket: a burst of sends is fine, a steady flood is refused."""
from __future__ import annotations

import time


class TokenBucket:
    def __init__(self, burst: int, rate_per_second: float) -> None:
        self.capacity = float(burst)
        self.rate = rate_per_second
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        """Spend one token if there is one; False means "slow down"."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
