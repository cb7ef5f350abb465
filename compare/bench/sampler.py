"""A wall-clock sampling profiler of the main thread, switched on and off by the epoch clock.

Why not py-spy or cProfile. The breakdown must cover exactly the epochs the study times (the
third epoch's start to the last epoch's end), not the import, the build or the warm-up epochs
with their tracing and compilation: that window is only known inside the training, when the
impl appends an epoch's end to its `epoch_clock`. An external sampler (py-spy) sees the whole
process and has no mark of that window; cProfile and yappi hook every Python call, which at
a few microseconds of framework code per call inflates exactly the Python-heavy parts
(Lightning's hooks) that the breakdown is meant to measure.

How it samples. An interval timer (ITIMER_REAL, wall time) raises SIGALRM; Python runs the
handler in the main thread at its next bytecode boundary, with the interrupted frame. The wall
time since the previous sample is charged to that frame's stack. A C call (a TensorFlow graph,
a torch kernel) delays the handler to its return, in the Python frame that made the call, so
its time lands on that caller: the module that asked for the work, which is what the breakdown
attributes. The handler's own time is measured and charged to no stack, so the charged time is
the window's wall time less the profiler's own (reported as its overhead). Each interval is
drawn uniformly from 0.5 to 1.5 times the nominal one (seeded), so the samples cannot fall
into step with a training loop's period; the charged times stay exact either way.

Standard library only: it runs inside the bench worker before anything else is known.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
from types import CodeType, FrameType
from typing import Any

DEFAULT_INTERVAL_S = 1e-3  # ~1 kHz: a sample every one or two steps of the tutorial's training


class StackSampler:
    """Charges the main thread's wall time to its Python stacks, between `start` and `stop`.

    stacks: {(id(code), ...) innermost first: seconds charged} (`code_stacks` gives the code
    objects); overhead_s: the handler's own time.
    """

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        if interval_s <= 0:
            raise ValueError(f"sampling interval must be > 0 s, got {interval_s}")
        self.interval_s = interval_s
        self.stacks: dict[tuple[int, ...], float] = {}  # ids of code objects, innermost first
        self._codes: dict[int, CodeType] = {}
        self.samples = 0
        self.overhead_s = 0.0
        self.window_s = 0.0
        self._last = 0.0
        self._started = 0.0
        self._previous: Any = None
        self._running = False
        self._random = random.Random(0)

    def _charge(self, frame: FrameType | None, now: float) -> None:
        ids = []  # code objects by id: hashing the codes themselves cost 3x the whole walk
        top = frame
        while frame is not None:
            ids.append(id(frame.f_code))
            frame = frame.f_back
        key = tuple(ids)
        if key in self.stacks:
            self.stacks[key] += now - self._last
        else:  # a new stack: keep its code objects (alive, so their ids stay theirs)
            self.stacks[key] = now - self._last
            while top is not None:
                self._codes[id(top.f_code)] = top.f_code
                top = top.f_back
        self.samples += 1

    def code_stacks(self) -> list[tuple[tuple[CodeType, ...], float]]:
        """(code objects innermost first, seconds charged) per sampled stack."""
        return [(tuple(self._codes[i] for i in key), s) for key, s in self.stacks.items()]

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        now = time.perf_counter()
        if frame is not None and frame.f_code is StackSampler._handler.__code__:
            self.overhead_s += now - self._last  # fired in the handler's tail: its own time
        else:
            self._charge(frame, now)
        self._last = time.perf_counter()
        self.overhead_s += self._last - now
        if self._running:  # one-shot, re-armed last: a slow handler is seldom re-entered
            signal.setitimer(signal.ITIMER_REAL, self._next_interval())

    def _next_interval(self) -> float:
        return self.interval_s * self._random.uniform(0.5, 1.5)

    def start(self) -> None:
        """Start charging time; only from the main thread (signals are delivered there)."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("the stack sampler runs in the main thread only")
        if self._running:
            raise RuntimeError("the stack sampler is already running")
        self._previous = signal.signal(signal.SIGALRM, self._handler)
        self._running = True
        self._started = self._last = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, self._next_interval())

    def stop(self, frame: FrameType | None = None) -> None:
        """Stop; the time since the last sample is charged to `frame` (default: the caller's)."""
        if not self._running:
            return
        frame = frame or sys._getframe(1)
        self._running = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        now = time.perf_counter()
        self._charge(frame, now)
        self.window_s = now - self._started
        signal.signal(signal.SIGALRM, self._previous or signal.SIG_DFL)


class SamplingClock(list):
    """An `epoch_clock` that samples the epochs between two of its marks.

    The impls append `perf_counter()` at each epoch's end. The sampler starts when mark number
    `first` is appended (the end of the warm-up) and stops at mark number `last` (the last
    timed epoch's end), so it covers the same epochs as `timing.timed_epochs` measures.
    """

    def __init__(self, sampler: StackSampler, first: int, last: int) -> None:
        super().__init__()
        if not 1 <= first < last:
            raise ValueError(f"need 1 <= first < last marks, got {first}, {last}")
        self.sampler, self.first, self.last = sampler, first, last

    def append(self, mark: float) -> None:  # type: ignore[override]
        super().append(mark)
        if len(self) == self.last:
            self.sampler.stop(sys._getframe(1))  # the impl's frame that marked the epoch
        elif len(self) == self.first:
            self.sampler.start()
