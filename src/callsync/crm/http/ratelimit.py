"""A client-side limiter per (CRM, account): paces requests so 429s stay rare.

Sized from the vendor's published limits and corrected from its limit headers as answers arrive.
Thread-safe, because one process may run several event loops (DBOS workers, the CLI).

On PostgreSQL, where several worker processes deliver for one account, the window is the database's
(`SharedWindowLimiter`, one `crm_budgets` row per account and lane): the adapter pool builds adapters
inside `limits_shared_through(db)`, and `limiter_for` hands out shared limiters there. On SQLite (one
worker process) and outside the pool the window is this process's own.
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import structlog

from callsync.store.budget import BudgetKey, BudgetState
from callsync.store.db import Database, is_sqlite

log = structlog.get_logger("callsync.crm")


class WindowLimiter:
    """At most `max_requests` per rolling `interval_s`, and a hard pause when the CRM says 'none left'."""

    def __init__(self, max_requests: int, interval_s: float) -> None:
        self.max_requests = max_requests
        self.interval_s = interval_s
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _delay(self, now: float) -> float:
        while self._sent and now - self._sent[0] >= self.interval_s:
            self._sent.popleft()
        wait = max(0.0, self._paused_until - now)
        if len(self._sent) >= self.max_requests:
            wait = max(wait, self._sent[0] + self.interval_s - now)
        return wait

    async def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                wait = self._delay(now)
                if wait <= 0:
                    self._sent.append(now)
                    return
            await asyncio.sleep(min(wait, 1.0))

    def observe(self, *, max_requests: int | None, remaining: int | None, interval_s: float | None) -> None:
        """Adopt the vendor's numbers; with nothing left in the window, pause until it rolls."""
        with self._lock:
            if max_requests and max_requests > 0:
                self.max_requests = max_requests
            if interval_s and interval_s > 0:
                self.interval_s = interval_s
            if remaining is not None and remaining <= 0:
                self._paused_until = max(self._paused_until, time.monotonic() + self.interval_s)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def refused(self) -> None:
        """The CRM answered 429 on this lane (the shared window widens its margin; see there)."""

    def accepted(self) -> None:
        """The CRM accepted a request of this lane."""


# -- one window shared by every worker process -----------------------------------------------------------

# A request reaches the CRM a little after callsync counted it (the grant's commit, the event loop, the
# network), and how much later varies, so the CRM's window may free a request later than ours would. A
# granted request that leaves more than RECOUNT_LATE_S after it was counted (its slot came while the event
# loop was busy) is counted again at the moment it left, for every process (`recount`); what is left to
# cover is the lag under that and the network's: a request is counted here for SHARED_MARGIN_S longer than
# the window, which keeps a process from sending into a window the CRM still sees as full. On a 1-second
# lane the margin is the share of the limit left unused (5 per 1.03 s: 0.97 of it). Measured on a busy
# 2-core host against the emulator, requests reached it up to ~20 ms later than they left; before the
# recount, up to 0.1 s later than counted, and the margin was 0.1 s (0.91 of the limit at most).
# A 429 that follows another on the lane within SHARED_WIDENING_S widens its margin by half (up to a
# quarter of the window; a lone one does not, see `refused`); it narrows again slowly while answers come
# back accepted. The widened margin is shared: every process counts with it for
# SHARED_WIDENING_S after the 429 (their requests lag the same way on a busy host), so one refusal anywhere
# spares the others theirs.
SHARED_MARGIN_S = 0.03
RECOUNT_LATE_S = 0.01
MAX_MARGIN_SHARE = 0.25
SHARED_WIDENING_S = 60.0
# A window of few requests (on average at least this far apart: HubSpot's 5 searches a second) is spent by
# one burst, and a burst reaches the CRM spread out by the requests' varying lag on a busy host: its late
# requests land among the next window's. There the grants are spaced evenly (`take_slots(smooth=True)`),
# so a request that lags lands among few others instead; one ask per request is cheap at that rate.
# A grant is placed at its slot, up to one spacing ahead, and its request waits for it: granted when
# asked, each grant came as late as the ask (the sleep's overshoot, the transaction, the event loop), and
# HubSpot's search lane ran at 81% of its spacing under load.
SMOOTH_SPACING_S = 0.1
# Two grants of a smooth lane are at least this share of its spacing apart, not a whole spacing: the window
# (five in any window and margin, with late requests counted when they left) is what keeps the CRM's count
# under its limit, and a whole spacing between grants also carried every late grant's lag into the slots
# after it. Measured back to back (bench/throughput.py w1, 2,000 calls, 2 cores): with a whole spacing the
# search lane ran at 4.67-4.71 searches/s and w1 at 0.93-0.94 of the ceiling; with half, 4.77-4.78 and
# 0.95, 0 429s in both.
SMOOTH_MIN_GAP_SHARE = 0.5
# Longest a waiting lane sleeps before it asks the database again (another process may have paused it).
MAX_POLL_S = 0.5


def take_slots(
    state: BudgetState,
    now: float,
    want: int,
    max_requests: int,
    interval_s: float,
    pause_until: float | None = None,
    margin_s: float = SHARED_MARGIN_S,
    widen_to: float | None = None,
    smooth: bool = False,
) -> tuple[int, float, float]:
    """Pure rule of the shared window: grant up to `want` requests at `now` and record them, and say how
    long until the next one may go (0: now) and how long the granted ones wait for their slot (0: they go
    now; only a smooth window places a grant ahead). `spent` holds request counts by millisecond; a count stays in
    the window for `interval_s` plus the margin: the asking process's `margin_s`, or the window's shared
    one while it holds, whichever is wider (counts are kept for the widest margin). `widen_to` (a process
    drew a 429) sets the shared margin for `SHARED_WIDENING_S`. A pause (the CRM said the window is
    spent) holds every process until `crm_blocked_until`. A `smooth` window grants one request at a
    time, spread over the window and its margin: at the next free slot when that is at most one
    spacing ahead (the request waits for it, and the next ask may come then)."""
    if pause_until is not None and pause_until > (state.crm_blocked_until or 0.0):
        state.crm_blocked_until = pause_until
    held = state.margin_s if state.margin_until is not None and state.margin_until > now else None
    if widen_to is not None:
        held = state.margin_s = max(widen_to, held or 0.0)
        state.margin_until = now + SHARED_WIDENING_S
    margin_s = max(margin_s, held or 0.0)
    keep = now - interval_s * (1 + MAX_MARGIN_SHARE)
    log = {k: v for k, v in state.spent.items() if int(k) / 1000 > keep}
    horizon = now - interval_s - margin_s
    used = sum(v for k, v in log.items() if int(k) / 1000 > horizon)
    if state.crm_blocked_until is not None and state.crm_blocked_until > now:
        state.spent = log
        return 0, state.crm_blocked_until - now, 0.0
    if smooth:
        return _take_smooth_slot(state, log, now, max_requests, interval_s + margin_s)
    granted = max(0, min(want, max_requests - used))
    if granted:
        key = str(int(now * 1000))
        log[key] = log.get(key, 0) + granted
    state.spent = log
    counted = [int(k) / 1000 for k in log if int(k) / 1000 > horizon]
    if used + granted < max_requests or not counted:
        return granted, 0.0, 0.0
    return granted, min(counted) + interval_s + margin_s - now, 0.0


def recount(state: BudgetState, moves: Sequence[tuple[int, int]]) -> None:
    """Pure rule: each (counted, left) pair, in epoch milliseconds, moves one request of the window's log
    from when it was counted to when it left (a request already out of the log stays out)."""
    log = dict(state.spent)
    for counted, left in moves:
        key = str(counted)
        held = log.get(key, 0)
        if held <= 0 or left <= counted:
            continue
        if held == 1:
            del log[key]
        else:
            log[key] = held - 1
        log[str(left)] = log.get(str(left), 0) + 1
    state.spent = log


def _take_smooth_slot(
    state: BudgetState, log: dict[str, int], now: float, max_requests: int, span_s: float
) -> tuple[int, float, float]:
    """One request at the next free slot: at least SMOOTH_MIN_GAP_SHARE of a spacing (`span_s` /
    `max_requests`) after the last grant, and no more than `max_requests` in any `span_s` up to it (the
    window as it will be at the slot, not as it is now: a full lane's next slot is always one the window
    frees by then). Granted when the slot is at most one spacing ahead (the request waits for it, and the
    next ask may come then); otherwise ask again one spacing before it."""
    # In whole milliseconds, as the log keeps them, and rounded up: a slot is never early.
    spacing, span = span_s * 1000 / max_requests, span_s * 1000
    times = sorted(int(k) for k, v in log.items() for _ in range(v))
    at = math.ceil(max(now * 1000, times[-1] + spacing * SMOOTH_MIN_GAP_SHARE if times else 0.0))
    within = [t for t in times if t > at - span]
    if len(within) >= max_requests:  # full at the slot: the slot is when the oldest of them leaves
        at = math.ceil(within[len(within) - max_requests] + span)
    state.spent = log
    if at - now * 1000 > spacing:
        return 0, (at - spacing) / 1000 - now, 0.0
    log[str(at)] = log.get(str(at), 0) + 1
    slot_in = max(0.0, at / 1000 - now)
    return 1, slot_in, slot_in


@dataclass
class _Waiter:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[bool]  # True: may send; False: lead the lane (ask the database for the queue)
    counted_ms: int | None = None  # when the shared window counts this request (epoch ms), once granted


class SharedWindowLimiter(WindowLimiter):
    """A `WindowLimiter` whose window lives in the database (a `crm_budgets` row of its own), so every
    worker process of one account draws from one window: N processes together send what one would.

    In one process the waiting requests queue here, and one of them at a time (the lead) asks the
    database for as many slots as are waiting, in one short transaction; the granted ones go, in order,
    and the lead hands its role to the next waiter. A database that does not answer costs no request:
    the lane falls back to this process's own window until it answers again."""

    def __init__(self, max_requests: int, interval_s: float, *, db: Database, key: BudgetKey) -> None:
        super().__init__(max_requests, interval_s)
        # Reentrant: a grant to a waiter of this very event loop settles at once, under the lock.
        self._lock = threading.RLock()  # type: ignore[assignment]
        self._db = weakref.ref(db)  # the registry is keyed weakly by the database; do not keep it alive
        self.key = key
        self._waiters: deque[_Waiter] = deque()
        self._leading = False
        self._next_ask = 0.0  # monotonic: when the database is worth asking again
        self._pending_pause: float | None = None  # epoch: a pause to share at the next ask
        self._pending_widening: float | None = None  # a margin widened by a 429, to share at the next ask
        self._pending_moves: list[tuple[int, int]] = []  # late requests to count again (`recount`)
        self._report_running = False
        self._reporting: set[asyncio.Task[None]] = set()
        self.asks = 0  # transactions made (for tests and the bench)
        self.margin_s = SHARED_MARGIN_S
        self._refused_at: float | None = None  # monotonic: this lane's last 429

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop, loop.create_future())
        with self._lock:
            self._waiters.append(waiter)
            lead = not self._leading
            self._leading = True
        while True:
            if not lead:
                try:
                    if await waiter.future:
                        self._left(waiter)
                        return
                except BaseException:
                    self._drop(waiter)
                    raise
                # Handed the lead: queue again at the front (it waited longest) and ask for the lane.
                waiter = _Waiter(loop, loop.create_future())
                with self._lock:
                    self._waiters.appendleft(waiter)
            try:
                await self._lead(waiter)
            finally:
                self._hand_over(waiter)
            if waiter.future.done() and not waiter.future.cancelled() and waiter.future.result():
                self._left(waiter)
                return
            lead = True  # still waiting (should not happen: the lead leaves only when granted)

    async def _lead(self, mine: _Waiter) -> None:
        """Ask the database for the waiting requests until this one is granted."""
        while not mine.future.done():
            delay = self._next_ask - time.monotonic()
            if delay > 0:
                await asyncio.sleep(min(delay, MAX_POLL_S))
                continue
            with self._lock:
                self._waiters = deque(w for w in self._waiters if not w.future.done())
                want = len(self._waiters)
                pause, self._pending_pause = self._pending_pause, None
                widen, self._pending_widening = self._pending_widening, None
                moves, self._pending_moves = self._pending_moves, []
            granted, wait, slot_in, counted_ms = await asyncio.to_thread(self._ask, want, pause, widen, moves)
            asked = time.monotonic()
            if granted and slot_in > 0:
                await asyncio.sleep(slot_in)  # a grant placed at its slot: its request goes then
            with self._lock:
                for _ in range(granted):
                    if not self._waiters:
                        break
                    waiter = self._waiters.popleft()
                    waiter.counted_ms = counted_ms
                    _resolve(waiter, True)
                self._next_ask = asked + (min(wait, MAX_POLL_S) if wait > 0 else 0.0)
            if not mine.future.done() and granted == 0 and wait <= 0:
                await asyncio.sleep(0.001)

    def _ask(
        self,
        want: int,
        pause: float | None,
        widen: float | None = None,
        moves: Sequence[tuple[int, int]] = (),
    ) -> tuple[int, float, float, int | None]:
        """One transaction on the shared row: (granted, wait, slot_in) as `take_slots` says, and when the
        window counts the granted requests (epoch ms; None: this process's own window, when the database
        fails)."""
        from callsync.store.budget import BudgetSettings, DatabaseBudgetStore

        db = self._db()
        if db is not None:
            try:
                self.asks += 1

                def change(state: BudgetState) -> tuple[int, float, float, int | None]:
                    # The time is read holding the row's lock: a wait for another process's
                    # transaction must not make these requests look older than they are.
                    now = time.time()
                    recount(state, moves)
                    granted, wait, slot_in = take_slots(
                        state,
                        now,
                        want,
                        self.max_requests,
                        self.interval_s,
                        pause,
                        self.margin_s,
                        widen,
                        self.interval_s / self.max_requests >= SMOOTH_SPACING_S,
                    )
                    # take_slots keys a grant by its millisecond: now's, or its slot's (a whole ms).
                    return (
                        granted,
                        wait,
                        slot_in,
                        round((now + slot_in) * 1000) if slot_in else int(now * 1000),
                    )

                return DatabaseBudgetStore(db).transact(
                    self.key, BudgetSettings(limit=None, window_s=self.interval_s), change
                )
            except Exception as exc:  # a blip (restart, failover): pace this process alone meanwhile
                log.warning("shared rate window unavailable", crm=self.key.crm, error=str(exc)[:200])
        with self._lock:
            wait = self._delay(time.monotonic())
            if wait > 0:
                return 0, wait, 0.0, None
            self._sent.append(time.monotonic())
            return 1, 0.0, 0.0, None

    def _left(self, waiter: _Waiter) -> None:
        """A granted request leaves now: when that is later than the window counted it by more than
        RECOUNT_LATE_S, count it again at this moment, for every process, at once (the next grants of a
        1-second lane are placed within the second)."""
        if waiter.counted_ms is None:
            return
        left = int(time.time() * 1000)
        if left - waiter.counted_ms <= RECOUNT_LATE_S * 1000:
            return
        with self._lock:
            self._pending_moves.append((waiter.counted_ms, left))
            if self._report_running:
                return  # the report under way takes this one too
            self._report_running = True
        task = asyncio.get_running_loop().create_task(self._report())
        self._reporting.add(task)  # a task nobody references may be garbage-collected mid-flight
        task.add_done_callback(self._reporting.discard)

    async def _report(self) -> None:
        """Count the late requests again, until none is left to (an ask takes what is pending too)."""
        from callsync.store.budget import BudgetSettings, DatabaseBudgetStore

        while True:
            with self._lock:
                moves, self._pending_moves = self._pending_moves, []
                db = self._db()
                if not moves or db is None:
                    self._report_running = False
                    return
            try:
                await asyncio.to_thread(
                    DatabaseBudgetStore(db).transact,
                    self.key,
                    BudgetSettings(limit=None, window_s=self.interval_s),
                    functools.partial(recount, moves=moves),
                )
            except Exception as exc:  # a blip: the margin and the CRM's 429 still stand
                log.warning("shared rate window unavailable", crm=self.key.crm, error=str(exc)[:200])

    def _hand_over(self, mine: _Waiter) -> None:
        """The lead leaves: the next waiter leads, or the lane is idle."""
        with self._lock:
            if not mine.future.done():
                mine.future.cancel()  # the lead itself was cancelled while waiting
            self._waiters = deque(w for w in self._waiters if not w.future.done())
            if self._waiters:
                _resolve(self._waiters.popleft(), False, on_cancelled=self._relead)
            else:
                self._leading = False

    def _relead(self) -> None:
        """The waiter handed the lead was cancelled before it could take it: hand it on."""
        with self._lock:
            self._waiters = deque(w for w in self._waiters if not w.future.done())
            if self._waiters:
                _resolve(self._waiters.popleft(), False, on_cancelled=self._relead)
            else:
                self._leading = False

    def _drop(self, waiter: _Waiter) -> None:
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def observe(self, *, max_requests: int | None, remaining: int | None, interval_s: float | None) -> None:
        with self._lock:
            if max_requests and max_requests > 0:
                self.max_requests = max_requests
            if interval_s and interval_s > 0:
                self.interval_s = interval_s
        if remaining is not None and remaining <= 0:
            self.pause(self.interval_s)

    def refused(self) -> None:
        """The CRM answered 429 although the window had room by our count: requests reach it later than
        we count them, by more than the margin. A lone 429 is one request that met a slow moment (late
        requests are counted again when they left); a second on the lane within SHARED_WIDENING_S is a
        host or network slower than the margin: widen it, for every process (shared at the next ask).
        Measured on the emulator, the 429s of a run came one at a time, and widening at the first held a
        1-second lane 1.5% under its limit for the minute after (0.97 -> 0.96 at a 0.03 s margin)."""
        with self._lock:
            now = time.monotonic()
            again = self._refused_at is not None and now - self._refused_at < SHARED_WIDENING_S
            self._refused_at = now
            self._next_ask = 0.0
            if not again:
                return
            self.margin_s = min(self.interval_s * MAX_MARGIN_SHARE, self.margin_s * 1.5)
            self._pending_widening = max(self._pending_widening or 0.0, self.margin_s)

    def accepted(self) -> None:
        with self._lock:
            self.margin_s = max(SHARED_MARGIN_S, self.margin_s * 0.999)

    def pause(self, seconds: float) -> None:
        """The CRM said the window is spent: every process holds the lane (shared at the next ask)."""
        with self._lock:
            until = time.time() + seconds
            self._pending_pause = max(self._pending_pause or 0.0, until)
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._next_ask = 0.0


def _resolve(waiter: _Waiter, value: bool, on_cancelled: Callable[[], None] | None = None) -> None:
    """Complete a waiter's future on its own event loop (waiters may come from several loops)."""

    def settle() -> None:
        if waiter.future.done():
            if on_cancelled is not None:
                on_cancelled()
            return
        waiter.future.set_result(value)

    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is waiter.loop:
        settle()
        return
    try:
        waiter.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # that loop is closed: its waiter is gone
        if on_cancelled is not None:
            on_cancelled()


_limiters: dict[tuple[str, str], WindowLimiter] = {}
_limiters_lock = threading.Lock()
# Shared limiters per database, held only as long as the database object is (tests make many).
_shared: weakref.WeakKeyDictionary[Database, dict[tuple[str, str], SharedWindowLimiter]] = (
    weakref.WeakKeyDictionary()
)
_shared_through: ContextVar[Database | None] = ContextVar("callsync_shared_limits", default=None)


@contextmanager
def limits_shared_through(db: Database | None) -> Iterator[None]:
    """Limiters made inside (while an adapter is built) keep their window in `db` when it is PostgreSQL,
    where several worker processes may deliver for one account; SQLite is one worker: a process window."""
    token = _shared_through.set(db if db is not None and not is_sqlite(db.url) else None)
    try:
        yield
    finally:
        _shared_through.reset(token)


def limiter_for(crm: str, account: str, max_requests: int, interval_s: float) -> WindowLimiter:
    """One limiter per CRM account in this process, shared by every adapter instance for it; inside
    `limits_shared_through(db)` on PostgreSQL, one window for every process on that database."""
    db = _shared_through.get()
    with _limiters_lock:
        key = (crm, account)
        if db is not None:
            limiters = _shared.setdefault(db, {})
            if key not in limiters:
                label = f"{crm} requests per {interval_s:g} s"
                limiters[key] = SharedWindowLimiter(
                    max_requests, interval_s, db=db, key=BudgetKey(f"window:{crm}"[:40], account, label)
                )
            return limiters[key]
        if key not in _limiters:
            _limiters[key] = WindowLimiter(max_requests, interval_s)
        return _limiters[key]
