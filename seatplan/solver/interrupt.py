"""Stopping a solve on request, keeping the best found.

Inside `interruptible()` (the `solve` command), the first SIGINT (Ctrl-C) or SIGTERM asks every
running search to stop: CP-SAT through its `stop_search`, CBC by a signal of its own, HiGHS by
`cancelSolve`, the Python loops by asking `requested()` — and the solve ends with the best
assignment found so far. A second signal aborts at once, writing nothing (a run folder being
written stays a hidden temporary folder, which the next solve removes).

Searches run by a native library are started in a thread (`run_stoppable`), so that the main
thread, where Python runs signal handlers, is free to receive the signal while they work.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: The signals that stop a solve, and the exit code each gives (128 + its number, as shells do).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_lock = threading.RLock()  # re-entrant: the handler may run while the main thread holds it
_installed = False
_exit_on_second = True
_received: int | None = None
_stops: list[Callable[[], None]] = []


def requested() -> int | None:
    """The signal that asked the solve to stop, or None."""
    return _received


def watching() -> bool:
    """True inside `interruptible()`: stop signals are being watched."""
    return _installed


def exit_code(signum: int) -> int:
    """The shell's exit code for a process ended by `signum`: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + int(signum)


@contextmanager
def stoppable(stop: Callable[[], None]) -> Iterator[None]:
    """While inside, a stop request calls `stop` (at once if one is already in)."""
    with _lock:
        _stops.append(stop)
        already = _received is not None
    if already:
        stop()
    try:
        yield
    finally:
        with _lock:
            _stops.remove(stop)


def run_stoppable(work: Callable[[], T]) -> T:
    """`work()`, in a thread while stop signals are watched, so the main thread can receive them."""
    if not _installed or threading.current_thread() is not threading.main_thread():
        return work()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(error)

    worker = threading.Thread(target=target, name="seatplan-search", daemon=True)
    worker.start()
    try:
        worker.join()  # interruptible: signal handlers run while the main thread waits here
    except KeyboardInterrupt:
        # A second Ctrl-C in Python: stop the native search before giving up on it.
        with _lock:
            stops = list(_stops)
        for stop in stops:
            stop()
        worker.join()
        raise
    if failure:
        raise failure[0]
    return outcome[0]


def _handle(signum: int, frame: object) -> None:
    global _received
    if _received is not None:
        # The second signal: abort now, writing nothing more (in Python: an ordinary interrupt).
        if not _exit_on_second:
            raise KeyboardInterrupt
        sys.stderr.write("seatplan: aborted; nothing was written\n")
        sys.stderr.flush()
        os._exit(exit_code(signum))
    _received = signum
    name = signal.Signals(signum).name
    sys.stderr.write(
        f"seatplan: {name} received: stopping the search and keeping the best assignment found so far "
        f"(send it again to abort{' without writing' if _exit_on_second else ''})\n"
    )
    sys.stderr.flush()
    with _lock:
        stops = list(_stops)
    for stop in stops:
        stop()


@contextmanager
def interruptible(abort_after_stop: bool = False, exit_on_second: bool = True) -> Iterator[None]:
    """Stop signals ask the solve to stop (see the module); outside the main thread, nothing changes.

    With `abort_after_stop` (the command line, whose process ends soon after), once a stop has been
    received the handlers are left in place on the way out: a further signal ends the process at
    once, with its exit code, rather than as an interrupt somewhere in Python's shutdown. Without
    `exit_on_second` (the Python API: a notebook's kernel must live on) a second signal raises
    KeyboardInterrupt."""
    global _installed, _received, _exit_on_second
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _handle) for signum in STOP_SIGNALS}
    _installed, _received, _exit_on_second = True, None, exit_on_second
    try:
        yield
    finally:
        _installed = False
        if not (abort_after_stop and _received is not None):
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            _received = None  # a later call (explain, a sweep) is not stopped by this one's signal


def reset() -> None:
    """Forget a stop request (after the interrupted solve has been written)."""
    global _received
    _received = None
