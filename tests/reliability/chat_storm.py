"""A storm of chat clients against ``examples/chat``, and the bookkeeping to judge it.

Every client is a real WebSocket client (``websockets``' asyncio client) speaking the chat
protocol: it connects with ``?name=``, joins one or two rooms, says things at a human pace and
waits for each ``sent``, and at the end either closes cleanly or drops its TCP connection with
no close frame (``transport.abort()``), sometimes right after sending a message. All clients
share one event loop, so the times they record are on one clock and totally ordered.

:func:`missing_deliveries` then checks the rule users rely on: a message whose sender got
``sent`` reached every other member that had joined the room before it was sent and stayed
connected until after the ``sent`` came back, exactly once.

Each ``say`` carries a client-made id, so a client may send it again: after an error frame, or
after a ``sent`` saying some members did not get it (``failed`` > 0). A retry must neither store
nor deliver the message twice. Under ``wsgate local --faults`` this is what users do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect

#: A member must have stayed connected this long past the sender's ``sent`` to be owed the
#: message: the frame is on its socket by then, but the client may not have read it yet.
GRACE_S = 1.0
ANSWER_TIMEOUT_S = 60.0
#: How often a client sends a ``say`` again before it counts as a failure.
SAY_ATTEMPTS = 4


@dataclass
class Said:
    room: str
    sent_at: float
    acked_at: float


@dataclass
class ChatClient:
    index: int
    rooms: list[str]
    start_after: float
    lifetime: float
    ending: str  # "close", "drop" or "drop-mid-message"
    pause: tuple[float, float] = (0.3, 1.2)
    #: A quiet client joins no room and only pings: it holds a connection at little cost.
    quiet: bool = False
    ws: ClientConnection | None = None
    joined_at: dict[str, float] = field(default_factory=dict)
    closed_at: float | None = None
    said: dict[str, Said] = field(default_factory=dict)
    received: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: Error frames and partial ``sent`` answers that a retry of the same ``say`` then fixed.
    recovered: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None
    #: Seconds from sending each ``join`` to its ``joined``, and each ``say`` to its answer.
    join_times: list[float] = field(default_factory=list)
    say_times: list[float] = field(default_factory=list)
    _waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"user{self.index}"

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "message":
            self.received[str(message.get("id"))] += 1
        elif kind == "error":
            say = self._waiting.get("say")
            if say is not None and not say.done():  # the answer to the say being sent
                self._waiting.pop("say")
                say.set_result(message)
                return
            self.errors.append(message)
        if kind == "sent":
            self._waiting.pop("say", None)
        key = f"{kind}:{message.get('room', '')}"
        waiter = self._waiting.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(message)

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                if isinstance(raw, str):
                    with contextlib.suppress(ValueError):
                        self._dispatch(json.loads(raw))

    async def _ask(self, request: dict[str, Any], answer: str) -> dict[str, Any]:
        assert self.ws is not None
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[f"{answer}:{request.get('room', '')}"] = waiter
        await self.ws.send(json.dumps(request))
        return await asyncio.wait_for(waiter, ANSWER_TIMEOUT_S)

    async def _say(self, room: str, text: str, message_id: str) -> dict[str, Any]:
        """Say ``text`` with ``message_id``, sending it again while the answer is an error
        frame or a ``sent`` that reports members who did not get it."""
        assert self.ws is not None
        request = {"action": "say", "room": room, "text": text, "id": message_id}
        for attempt in range(SAY_ATTEMPTS):
            loop = asyncio.get_running_loop()
            sent = loop.create_future()
            said = loop.create_future()
            self._waiting[f"sent:{room}"] = sent
            self._waiting["say"] = said
            await self.ws.send(json.dumps(request))
            done, _ = await asyncio.wait(
                {sent, said}, timeout=ANSWER_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
            )
            answer = (sent if sent in done else said).result() if done else None
            if answer is None:
                raise TimeoutError(f"no answer to say {message_id}")
            complete = (
                answer.get("type") == "sent"
                and not answer.get("failed")
                and not answer.get("inProgress")
            )
            if complete or attempt + 1 == SAY_ATTEMPTS:
                if answer.get("type") != "sent":
                    self.errors.append(answer)
                return answer
            self.recovered.append(answer)
            await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _idle(self, ends_at: float, rng: random.Random, stats: Counter[str]) -> None:
        while time.monotonic() < ends_at:
            await self._ask({"action": "ping"}, "pong")
            stats["pongs"] += 1
            await asyncio.sleep(min(rng.uniform(*self.pause), max(0.0, ends_at - time.monotonic())))

    async def run(self, url: str, rng: random.Random, stats: Counter[str]) -> None:
        await asyncio.sleep(self.start_after)
        try:
            self.ws = await connect(
                f"{url}?name={quote(self.name)}",
                open_timeout=ANSWER_TIMEOUT_S,
                ping_interval=None,
                max_size=2**22,
            )
        except Exception as exc:
            self.failure = f"connect: {exc!r}"
            return
        stats["connected"] += 1
        stats["held"] = max(stats["held"], stats["connected"] - stats["ended"])
        reader = asyncio.get_running_loop().create_task(self._read())
        ends_at = time.monotonic() + self.lifetime
        try:
            if self.quiet:
                await self._idle(ends_at, rng, stats)
                return
            for room in self.rooms:
                asked = time.monotonic()
                await self._ask({"action": "join", "room": room}, "joined")
                self.joined_at[room] = time.monotonic()
                self.join_times.append(self.joined_at[room] - asked)
            number = 0
            while time.monotonic() < ends_at:
                room = rng.choice(self.rooms)
                number += 1
                text = f"{self.name} #{number}"
                if self.ending == "drop-mid-message" and time.monotonic() + 1.5 > ends_at:
                    request = {
                        "action": "say",
                        "room": room,
                        "text": text,
                        "id": f"{self.name}-{number}-last",
                    }
                    await self.ws.send(json.dumps(request))
                    stats["dropped mid-message"] += 1
                    break
                sent_at = time.monotonic()
                ack = await self._say(room, text, f"{self.name}-{number}-{rng.getrandbits(48):x}")
                self.say_times.append(time.monotonic() - sent_at)
                if ack.get("type") == "sent":
                    self.said[str(ack["id"])] = Said(room, sent_at, time.monotonic())
                await asyncio.sleep(rng.uniform(*self.pause))
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            self.closed_at = time.monotonic()
            stats["ended"] += 1
            if self.ending == "close":
                with contextlib.suppress(Exception):
                    await self.ws.close()
            else:
                self.ws.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(reader, 10)


def plan(
    clients: int,
    seconds: float,
    seed: int,
    *,
    drop_share: float = 0.3,
    pause: tuple[float, float] = (2.0, 4.0),
    room_size: int = 6,
    chatty_share: float = 1.0,
) -> list[ChatClient]:
    """Clients that arrive over the first 60% of ``seconds`` and leave by its end, saying
    something every ``pause`` seconds in rooms of about ``room_size`` members. Only
    ``chatty_share`` of them join rooms and talk; the others hold their connection and ping."""
    rng = random.Random(seed)
    chatty = max(2, round(clients * chatty_share))
    rooms = [f"room-{n}" for n in range(max(2, chatty // room_size))]
    planned = []
    for index in range(clients):
        start = rng.uniform(0, seconds * 0.6)
        lifetime = rng.uniform(seconds / 4, seconds - start)
        roll = rng.random()
        if roll < drop_share / 2:
            ending = "drop"
        elif roll < drop_share:
            ending = "drop-mid-message"
        else:
            ending = "close"
        chosen = rng.sample(rooms, k=rng.choice((1, 1, 1, 2)))
        quiet = index >= chatty
        planned.append(ChatClient(index, chosen, start, lifetime, ending, pause, quiet))
    return planned


async def storm(url: str, clients: list[ChatClient], seed: int) -> Counter[str]:
    """Run every client to its end; returns counts (connected, held at once, ended...)."""
    stats: Counter[str] = Counter()
    rngs = [random.Random(seed * 100_003 + c.index) for c in clients]
    await asyncio.gather(*(c.run(url, rng, stats) for c, rng in zip(clients, rngs, strict=True)))
    return stats


def percentile_ms(samples: list[float], share: float) -> float:
    """The ``share`` percentile (0..1, nearest rank) of ``samples`` seconds, in milliseconds."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def missing_deliveries(clients: list[ChatClient]) -> tuple[list[str], int, int]:
    """(problems, messages owed, messages delivered as owed).

    A problem is a message owed to a member that it did not get, or got more than once.
    """
    problems: list[str] = []
    owed = delivered = 0
    for sender in clients:
        for message_id, said in sender.said.items():
            for member in clients:
                if member is sender:
                    continue
                copies = member.received.get(message_id, 0)
                if copies > 1:
                    problems.append(f"{member.name} got {message_id} {copies} times")
                joined = member.joined_at.get(said.room)
                if joined is None or joined >= said.sent_at:
                    continue
                if member.closed_at is None or member.closed_at <= said.acked_at + GRACE_S:
                    continue
                owed += 1
                if copies == 1:
                    delivered += 1
                elif copies == 0:
                    problems.append(
                        f"{member.name} never got {message_id} from {sender.name} in {said.room}"
                    )
    return problems, owed, delivered
