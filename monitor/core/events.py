"""Messages the acquisition hub publishes to the live view and the headless printer.

They are plain frozen dataclasses: the same objects travel on the UI queue,
become JSON lines in headless runs, and are what tests assert on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from monitor.core.reading import Reading, WaveChunk
from monitor.core.session import Phase, PhaseSpan
from monitor.core.vitals import Vital


class Condition(enum.StrEnum):
    """Technical conditions the pipeline itself detects."""

    STALE = "stale"                      # one vital stopped while others still arrive
    NO_DATA = "no_data"                  # nothing at all from the source
    QUEUE_OVERFLOW = "queue_overflow"    # a bounded queue was full; items were lost
    RECORDING_FAILED = "recording_failed"
    SOURCE_ERROR = "source_error"


@dataclass(frozen=True)
class SessionStarted:
    """A session is live (new, or resumed after a gap).

    ``gap_s`` is the length of the interruption when resumed, else ``None``.
    """

    session_id: int
    started_at: float
    source: str
    simulated: bool
    spans: tuple[PhaseSpan, ...]
    resumed: bool = False
    gap_s: float | None = None


@dataclass(frozen=True)
class PhaseChanged:
    """The session entered ``phase`` at ``t``."""

    phase: Phase
    t: float


@dataclass(frozen=True)
class Technical:
    """A technical condition became active (``active``) or ended."""

    condition: Condition
    active: bool
    t: float
    message: str
    vital: Vital | None = None
    count: int = 0


@dataclass(frozen=True)
class RecordingStatus:
    """Whether the recorder is writing. ``ok=False`` means readings are not being saved."""

    ok: bool
    t: float
    message: str = ""


@dataclass(frozen=True)
class History:
    """Readings and waves already recorded for a resumed session, oldest first."""

    readings: tuple[Reading, ...] = ()
    waves: tuple[WaveChunk, ...] = ()


@dataclass(frozen=True)
class StreamEnded:
    """The source finished (scenario over, duration reached, or stopped)."""

    t: float
    reason: str = ""


@dataclass(frozen=True)
class Note:
    """A timestamped annotation on the session (system notes now, nurse events later)."""

    t: float
    kind: str
    text: str = ""
    author: str = ""


HubMessage = (Reading | WaveChunk | SessionStarted | PhaseChanged | Technical
              | RecordingStatus | History | StreamEnded | Note)


@dataclass
class Counters:
    """Running totals the hub keeps for the end-of-run summary."""

    readings: int = 0
    wave_samples: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
