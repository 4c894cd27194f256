"""Emulated network latency of the @connections API: ``wsgate local --latency 20ms``.

On loopback a ``post_to_connection`` answers in well under a millisecond, so a sender that
overlaps its calls looks no better than one that does not. On AWS each call is a round trip to
API Gateway's endpoint, typically tens of milliseconds from a Lambda. With ``--latency`` each
@connections call (POST, GET, DELETE) takes that long: half of it before the gateway acts (the
request travelling), half after (the answer travelling back), so a client receives a posted
message about half a round trip after the call starts, as it would on AWS. The wait is an
``asyncio`` sleep: other requests are served meanwhile.

Syntax: ``20ms`` (every call the same), or ``10ms..30ms`` (uniform between the two). Units are
``ms`` or ``s``; ``0`` turns it off.
"""

from __future__ import annotations

import argparse
import random
import re

#: A round trip longer than this is surely a typo (``20s`` for ``20ms``).
MAX_LATENCY_S = 10.0
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*")
EXAMPLES = "e.g. 20ms, 0.05s or 10ms..30ms"


class LatencySpecError(ValueError):
    """A ``--latency`` value that cannot be used; the message says what is wrong."""


def _duration(text: str, spec: str) -> float:
    if text.strip() == "0":
        return 0.0
    match = _DURATION.fullmatch(text)
    if match is None:
        raise LatencySpecError(
            f"{spec!r}: {text.strip()!r} is not a duration with a unit (ms or s), {EXAMPLES}"
        )
    value = float(match[1]) / (1000 if match[2] == "ms" else 1)
    if value > MAX_LATENCY_S:
        raise LatencySpecError(f"{spec!r}: at most {MAX_LATENCY_S:g} s per round trip")
    return value


class Latency:
    """The round trip of one @connections call: fixed, or uniform in ``[low, high]``."""

    def __init__(self, low: float, high: float | None = None, seed: int | None = None) -> None:
        high = low if high is None else high
        if low < 0 or high < low:
            raise LatencySpecError("the latency range must satisfy 0 <= low <= high")
        self.low = low
        self.high = high
        self._random = random.Random(seed)

    @classmethod
    def parse(cls, spec: str, seed: int | None = None) -> Latency:
        """``"20ms"`` or ``"10ms..30ms"`` (see the module docstring)."""
        low, sep, high = spec.partition("..")
        if sep:
            first, last = _duration(low, spec), _duration(high, spec)
            if last < first:
                raise LatencySpecError(f"{spec!r}: the range must go from low to high")
            return cls(first, last, seed)
        return cls(_duration(spec, spec), seed=seed)

    def __bool__(self) -> bool:
        return self.high > 0

    def sample(self) -> float:
        """One round trip, in seconds."""
        if self.low == self.high:
            return self.low
        return self._random.uniform(self.low, self.high)

    def describe(self) -> str:
        if self.low == self.high:
            return f"{self.low * 1000:g} ms per @connections call"
        return f"{self.low * 1000:g}..{self.high * 1000:g} ms (uniform) per @connections call"


def argument(spec: str) -> Latency:
    """``--latency`` for argparse: a :class:`Latency`, or an error argparse prints as it is."""
    try:
        return Latency.parse(spec)
    except LatencySpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
