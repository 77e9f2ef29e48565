"""A plain progress bar on stderr: redrawn in place on a terminal, one line per tenth otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``label [#####.....]  50%  500,000/1,000,000  3.1s``."""

    WIDTH = 30

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.done = 0
        self.started = time.monotonic()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_draw = 0.0
        self._last_tenth = -1

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done and redraw when it is time to."""
        self.done += count
        if not self.enabled:
            return
        if self._tty:
            now = time.monotonic()
            if now - self._last_draw >= 0.2 or self.done >= self.total:
                self._last_draw = now
                self.stream.write("\r" + self._line())
                self.stream.flush()
        else:
            tenth = (10 * self.done // self.total) if self.total else 10
            if tenth != self._last_tenth and (tenth > self._last_tenth):
                self._last_tenth = tenth
                self.stream.write(self._line() + "\n")
                self.stream.flush()

    def finish(self) -> None:
        """Draw the final state and end the line."""
        if not self.enabled:
            return
        self.done = max(self.done, self.total)
        if self._tty:
            self.stream.write("\r" + self._line() + "\n")
        elif self._last_tenth < 10:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def _line(self) -> str:
        share = self.done / self.total if self.total else 1.0
        filled = int(self.WIDTH * min(share, 1.0))
        bar = "#" * filled + "." * (self.WIDTH - filled)
        elapsed = time.monotonic() - self.started
        return f"{self.label:<24} [{bar}] {share:4.0%}  {self.done:,}/{self.total:,}  {elapsed:.1f}s"
