"""Fault injection: ``wsgate local --faults 429=0.1,500=0.02,drop=0.01 [--faults-seed N]``.

On AWS, ``@connections`` calls draw on the account's request bucket and answer 429
(``LimitExceededException``) when it is empty, some fail with 500
(``InternalServerErrorException``), and client sockets die without a close frame when a network
path breaks. The local gateway can play those faults at chosen rates so that a handler's retries
and clean-up can be tested; a seed makes the sequence of decisions repeatable.

* ``429=P`` / ``500=P``: each ``@connections`` call (POST, GET, DELETE on a connection) answers
  that error with probability ``P``, with ``x-amzn-ErrorType`` set as AWS sets it, so botocore
  raises the same exception. The fault is decided before the call does anything: an injected
  error never delivered the message, so retrying it cannot deliver twice.
* ``drop=P``: each message a client sends is, with probability ``P``, lost together with the
  client's socket: the gateway aborts the TCP connection (no close frame, as when a network path
  breaks) and ``$disconnect`` runs with 1006.

The two kinds draw from separate generators, so adding drops does not shift which calls fail.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from wsgate.apigw import management

if TYPE_CHECKING:
    from aiohttp import web

#: The ``@connections`` errors that can be injected: status → (x-amzn-ErrorType, message).
ERRORS: dict[str, tuple[int, str, str]] = {
    "429": (429, management.error_type(429), management.ERROR_MESSAGES[429] or ""),
    "500": (500, management.error_type(500), management.ERROR_MESSAGES[500] or ""),
}
DROP = "drop"
KINDS = (*ERRORS, DROP)

Log = Callable[[str], None]


class FaultSpecError(ValueError):
    """A ``--faults`` value that cannot be used; the message says what is wrong."""


def parse(spec: str) -> dict[str, float]:
    """``"429=0.1,500=0.02,drop=0.01"`` → ``{"429": 0.1, "500": 0.02, "drop": 0.01}``."""
    rates: dict[str, float] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kind, sep, value = part.partition("=")
        kind = kind.strip().lower()
        if not sep or kind not in KINDS:
            raise FaultSpecError(
                f"{part!r}: expected KIND=RATE with KIND one of {', '.join(KINDS)}, "
                "e.g. 429=0.1,500=0.02,drop=0.01"
            )
        if kind in rates:
            raise FaultSpecError(f"{kind} is given twice")
        try:
            rate = float(value)
        except ValueError:
            raise FaultSpecError(f"{part!r}: the rate must be a number from 0 to 1") from None
        if not 0.0 <= rate <= 1.0:
            raise FaultSpecError(f"{part!r}: the rate must be a number from 0 to 1")
        rates[kind] = rate
    if sum(rates.get(kind, 0.0) for kind in ERRORS) > 1.0:
        raise FaultSpecError("the rates of 429 and 500 add up to more than 1")
    return rates


class Faults:
    """Decides, call by call, whether to inject a fault; counts what it injected."""

    def __init__(self, rates: Mapping[str, float], seed: int | None = None) -> None:
        self.rates = {kind: float(rates.get(kind, 0.0)) for kind in KINDS}
        self.seed = seed
        base = random.randrange(2**63) if seed is None else seed
        self._calls = random.Random(f"{base}:connections")
        self._drops = random.Random(f"{base}:drop")
        #: How many of each fault were injected, plus ``calls`` and ``messages`` looked at.
        self.counts: Counter[str] = Counter()

    @classmethod
    def from_spec(cls, spec: str, seed: int | None = None) -> Faults:
        return cls(parse(spec), seed)

    def __bool__(self) -> bool:
        return any(self.rates.values())

    def describe(self) -> str:
        rates = ",".join(f"{kind}={rate:g}" for kind, rate in self.rates.items() if rate)
        return f"{rates or 'none'} (seed {self.seed if self.seed is not None else 'random'})"

    def connections_error(
        self, method: str, connection_id: str, log: Log | None = None
    ) -> web.Response | None:
        """The injected error response for one ``@connections`` call, or None to serve it."""
        self.counts["calls"] += 1
        draw = self._calls.random()
        threshold = 0.0
        for kind, (status, error_type, message) in ERRORS.items():
            threshold += self.rates[kind]
            if draw < threshold:
                self.counts[kind] += 1
                if log is not None:
                    log(f"fault: {status} {error_type} on {method} @connections/{connection_id}")
                from aiohttp import web

                headers, body = management.error_answer(status, message)
                return web.Response(status=status, body=body, headers=headers)
        return None

    def drop_socket(self, ws: Any, connection_id: str, log: Log | None = None) -> bool:
        """Maybe abort the client's socket instead of taking its message; True if dropped."""
        if not self.rates[DROP]:
            return False
        self.counts["messages"] += 1
        if self._drops.random() >= self.rates[DROP]:
            return False
        transport = getattr(getattr(ws, "_req", None), "transport", None)
        if transport is None:
            return False
        self.counts[DROP] += 1
        if log is not None:
            log(f"fault: dropped the socket of {connection_id}")
        transport.abort()
        return True


def argument(spec: str) -> dict[str, float]:
    """``--faults`` for argparse: the parsed rates, or an error argparse prints as it is."""
    import argparse

    try:
        return parse(spec)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
