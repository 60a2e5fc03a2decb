"""The discrete-event core of the benchmark's log generators: jobs, lines, arrivals and timestamps.

A generator writes each SMTP session (or queue run) in one go, but a real
server interleaves them. So jobs (session arrivals, queue runs, periodic
statistics) run in time order, and each pushes its lines, with their own future
times, onto a heap that is emitted up to the time of the next job: lines come
out in time order and sessions interleave.

Jobs and lines share one sequence number that breaks ties in time, so the
order of lines, and with it a generator's bytes, depends on the order in which
they were pushed and scheduled; the generators' cached logs rely on it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from random import Random
from typing import ClassVar

from .words import cos_hour, weighted

__all__ = ["Job", "Simulation"]

#: Something to do at a time: it gets that time.
Job = Callable[[float], None]


class Simulation:
    """A seeded simulation starting at ``start`` (default 1 March 2025, midnight); :meth:`run` yields its log.

    A subclass sets :attr:`RATE` and :attr:`mix`, formats a day with
    :meth:`day_text`, schedules its first jobs and then yields from :meth:`run`.
    """

    #: Mean SMTP sessions per second, before the daily cycle.
    RATE: ClassVar[float]

    def __init__(self, seed: int, start: datetime | None) -> None:
        self.rng = Random(seed)
        self.start = start or datetime(2025, 3, 1)
        self.jobs: list[tuple[float, int, Job]] = []
        self.out: list[tuple[float, int, str]] = []
        self.order = 0
        #: (weight, session) of what an arriving connection is.
        self.mix: tuple[tuple[float, Job], ...] = ()
        self._day = -1
        self._day_text = ""

    def day_text(self, day: datetime) -> str:
        """How a log line's timestamp writes ``day``."""
        raise NotImplementedError

    def emit(self, t: float, text: str) -> None:
        """A log line (without its timestamp) at time ``t``."""
        self.order += 1
        heapq.heappush(self.out, (t, self.order, text))

    def schedule(self, t: float, job: Job) -> None:
        self.order += 1
        heapq.heappush(self.jobs, (t, self.order, job))

    def stamp(self, t: float) -> str:
        """The timestamp of ``t`` seconds after the start: :meth:`day_text` and ``HH:MM:SS``."""
        sec = int(t)
        day, rem = divmod(sec, 86400)
        if day != self._day:
            self._day = day
            self._day_text = self.day_text(self.start + timedelta(days=day))
        hours, rem = divmod(rem, 3600)
        minutes, seconds = divmod(rem, 60)
        return f"{self._day_text} {hours:02d}:{minutes:02d}:{seconds:02d}"

    def run(self) -> Iterator[str]:
        """The log, endlessly, one line (without newline) at a time: run the jobs, emit the lines before each."""
        out = self.out
        while True:
            t, _, job = heapq.heappop(self.jobs)
            while out and out[0][0] <= t:
                line_t, _, text = heapq.heappop(out)
                yield f"{self.stamp(line_t)} {text}"
            job(t)

    def arrival(self, t: float) -> None:
        """A new SMTP connection, drawn from :attr:`mix`; the next one follows a daily cycle (busiest at 16:00)."""
        rng = self.rng
        session = weighted(rng, self.mix)
        session(t)
        daily = 0.55 + 0.9 * (0.5 - 0.5 * cos_hour((t % 86400) / 3600 - 4))
        self.schedule(t + rng.expovariate(self.RATE * daily), self.arrival)
