"""The speaker: plays the priority-encoded alarm bursts and notices when it cannot."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal

from monitor.core.alarms.model import Priority
from monitor.core.alarms.tones import ALARM_PATTERNS, REMINDER_PATTERN, shipped_tone_dir

try:  # QtMultimedia is in PySide6-Addons and needs libpulse0 on Linux (STYLE.md §6)
    from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
except ImportError as exc:  # pragma: no cover - depends on the machine
    QMediaDevices = QSoundEffect = None  # type: ignore[assignment,misc]
    _MULTIMEDIA_ERROR: str | None = f"QtMultimedia unavailable: {exc}"
else:
    _MULTIMEDIA_ERROR = None

log = logging.getLogger(__name__)

REMINDER = 0
"""``burst_started`` value for the reminder tone."""

DEFAULT_LOAD_TIMEOUT_MS = 3000
"""How long the tones may take to load before the output counts as unusable."""


def output_problem() -> str | None:
    """Why no audio output is usable, or ``None`` when the system reports one.

    Asks QtMultimedia for its outputs; it does not block (with no sound
    server the answer is an empty list within milliseconds).
    """
    if _MULTIMEDIA_ERROR is not None:
        return _MULTIMEDIA_ERROR
    if not QMediaDevices.audioOutputs() or QMediaDevices.defaultAudioOutput().isNull():
        return "no audio output device"
    return None


class AlarmSoundPlayer(QObject):
    """Plays the burst of the highest sounding alarm priority, repeating it.

    Call :meth:`set_sounding` on every GUI tick with the priority that
    should sound now (the alarm snapshot's ``sounding``). Only that one
    priority plays: a change stops the current burst and starts the new
    one at once, then repeats it at its pattern's period (low: once).
    The same priority again changes nothing, so a burst is never restarted
    by the tick.

    The tones are the WAV files shipped in ``resources/alarm_tones``
    (:func:`monitor.core.alarms.tones.shipped_tone_dir`); Qt loads them
    asynchronously, so nothing is written or read by this class on the GUI
    thread. Whether the output works is decided without blocking: no
    output device, a tone whose ``QSoundEffect`` reaches status ``Error``,
    or tones still not loaded after ``load_timeout_ms`` each emit
    :attr:`audio_failed` once (deferred to the event loop, so a slot
    connected right after construction still hears about it). Bursts keep
    being scheduled, and :attr:`burst_started` keeps being emitted, when
    the output is unusable: only the sound is missing.

    Parameters
    ----------
    parent : QObject, optional
    repeat_periods_s : mapping of Priority to float or None, optional
        Overrides the start-to-start repeat period of some priorities
        (``None``: play once); for tests.
    tone_dir : Path, optional
        Where ``high.wav``, ``medium.wav``, ``low.wav`` and ``reminder.wav``
        are (default: the shipped ones).
    load_timeout_ms : int
        See above.

    Signals
    -------
    audio_failed(str)
        No usable audio output; the reason, for the technical alarm
        "NO ALARM SOUND". Emitted at most once per player.
    burst_started(int)
        A burst was started: the priority value (1-3) or :data:`REMINDER`
        (0).
    """

    audio_failed = Signal(str)
    burst_started = Signal(int)

    def __init__(self, parent: QObject | None = None, *,
                 repeat_periods_s: Mapping[Priority, float | None] | None = None,
                 load_timeout_ms: int = DEFAULT_LOAD_TIMEOUT_MS,
                 tone_dir: Path | None = None) -> None:
        super().__init__(parent)
        self._tone_dir = tone_dir if tone_dir is not None else shipped_tone_dir()
        self._periods: dict[Priority, float | None] = {
            p: pattern.repeat_period_s for p, pattern in ALARM_PATTERNS.items()}
        self._periods.update(repeat_periods_s or {})
        self._sounding: Priority | None = None
        self._failure: str | None = None
        self._failure_emitted = False
        self._closed = False
        self._effects: dict[int, QSoundEffect] = {}

        self._repeat = QTimer(self)
        self._repeat.setTimerType(Qt.TimerType.PreciseTimer)  # coarse allows 5 % drift
        self._repeat.timeout.connect(self._on_repeat)
        self._check = QTimer(self)  # load timeout, or the deferred failure report
        self._check.setSingleShot(True)
        self._check.timeout.connect(self._on_check)

        self._load_timeout_ms = load_timeout_ms
        problem = output_problem()
        if problem is not None:
            self._fail(problem)
        if _MULTIMEDIA_ERROR is None:
            self._devices = QMediaDevices(self)
            self._devices.audioOutputsChanged.connect(self._on_outputs_changed)
            problem = self._load_tones()
            if problem is not None:
                self._fail(problem)
        if self._failure is None:
            self._check.start(load_timeout_ms)
            self._on_status_changed()  # in case the tones loaded synchronously

    # -- public API ---------------------------------------------------------

    @property
    def audio_ok(self) -> bool:
        """``False`` once the output was found unusable (optimistic while loading)."""
        return self._failure is None

    @property
    def failure(self) -> str | None:
        """Why the output is unusable, or ``None``."""
        return self._failure

    @property
    def sounding(self) -> Priority | None:
        """The priority currently sounding (between its bursts too), or ``None``."""
        return self._sounding

    def set_sounding(self, priority: Priority | None) -> None:
        """Make ``priority`` the one that sounds (``None``: silence).

        Parameters
        ----------
        priority : Priority or None
            A new priority stops the current burst and starts its own at
            once; the same priority as before does nothing.
        """
        if priority == self._sounding or self._closed:
            return
        self._sounding = priority
        self._repeat.stop()
        self._stop_effects()
        if priority is None:
            return
        period = self._periods[priority]
        if period is not None:
            self._repeat.start(max(1, round(period * 1000)))
        self._start_burst(int(priority))

    def play_reminder(self) -> bool:
        """Play the reminder tone once, unless an alarm priority is sounding.

        While a priority sounds (also between its bursts) the reminder is
        skipped: extra pulses would blur the priority encoding, and the
        alarm sound already calls the nurse.

        Returns
        -------
        bool
            Whether the reminder was started.
        """
        if self._sounding is not None or self._closed:
            return False
        self._start_burst(REMINDER)
        return True

    def close(self) -> None:
        """Silence, stop the timers and delete the generated tone files.

        The player stays silent afterwards: :meth:`set_sounding` and
        :meth:`play_reminder` do nothing.
        """
        self._closed = True
        self._sounding = None
        self._repeat.stop()
        self._check.stop()
        self._stop_effects()
        for effect in self._effects.values():
            effect.setSource(QUrl())

    # -- internals ----------------------------------------------------------

    def _load_tones(self) -> str | None:
        names = [p.name for p in ALARM_PATTERNS.values()] + [REMINDER_PATTERN.name]
        paths = {name: self._tone_dir / f"{name}.wav" for name in names}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            return f"alarm tone files missing: {', '.join(missing)}"
        keys = {p.label: int(p) for p in ALARM_PATTERNS} | {REMINDER_PATTERN.name: REMINDER}
        for name, path in paths.items():
            effect = QSoundEffect(self)
            effect.setLoopCount(1)
            effect.setVolume(1.0)
            effect.statusChanged.connect(self._on_status_changed)
            self._effects[keys[name]] = effect  # before loading: Error may come at once
            effect.setSource(QUrl.fromLocalFile(str(path)))
        return None

    def _start_burst(self, key: int) -> None:
        effect = self._effects.get(key)
        if effect is not None:
            effect.stop()
            effect.play()
        self.burst_started.emit(key)

    def _on_repeat(self) -> None:
        if self._sounding is not None:
            self._start_burst(int(self._sounding))

    def _stop_effects(self) -> None:
        for effect in self._effects.values():
            if effect.isPlaying():
                effect.stop()

    def _fail(self, reason: str) -> None:
        if self._failure is not None or self._closed:
            return
        self._failure = reason
        log.warning("alarm sound unusable: %s", reason)
        self._check.start(0)  # report from the event loop, once

    def _on_check(self) -> None:
        if self._failure is None:
            self._fail(f"alarm tones not loaded after {self._load_timeout_ms / 1000:g} s")
            return
        if not self._failure_emitted:
            self._failure_emitted = True
            self.audio_failed.emit(self._failure)

    def _on_status_changed(self) -> None:
        statuses = [effect.status() for effect in self._effects.values()]
        if QSoundEffect.Status.Error in statuses:
            self._fail("an alarm tone could not be loaded for the audio output")
        elif self._failure is None and all(s == QSoundEffect.Status.Ready for s in statuses):
            self._check.stop()

    def _on_outputs_changed(self) -> None:
        problem = output_problem()
        if problem is not None:
            self._fail(problem)
