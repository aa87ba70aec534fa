"""The built-in simulator as a driver: a scenario engine paced by the session clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from monitor.core.clock import Clock
from monitor.core.events import RawBytes
from monitor.core.reading import Reading
from monitor.core.session import Phase
from monitor.core.vitals import NIBP_VITALS, Vital
from monitor.core.workflow.messages import SCRIPTED_AUTHOR, AddEvent, ScriptedStart
from monitor.devices.base import Driver, DriverItem
from simulators.engine import ScenarioEngine
from simulators.scenario import Scenario

log = logging.getLogger(__name__)

_NIBP = frozenset({Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN})
_DIRECT = frozenset({Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.PLETH, Vital.RESP_RATE,
                     Vital.ETCO2})
"""What the scenario engine hands over directly (NIBP with the cuff)."""

REAL_STEP_S = 0.1      # at a given speed, deliver data every 0.1 s of real time...
MAX_STEP_S = 2.0       # ...but never more than 2 session seconds at once, so a
                       # value never looks stale between deliveries at high speeds
MAX_SPEED_STEP_S = 1.0  # at --speed max, advance session time a second at a time


class SimulatedDriver(Driver):
    """Plays a scenario in session time.

    Parameters
    ----------
    scenario : Scenario
    seed : int
    duration_s : float or None
        Stop after this many session seconds; ``None`` stops when the
        scenario ends. Longer than the scenario keeps the patient in late
        recovery until then.
    label : str
    protocol : str or None
        Send the scenario through this protocol's encoder and the real codec
        (as the live demo does), so it exercises the same parsing path as a
        real monitor; the bytes are captured for replay. ``None`` hands the
        scenario's readings over directly (the fast path for headless runs).
        A protocol whose device sends no NIBP (an oximeter) is paired, as at
        a chair with a pulse oximeter, with a separate automatic cuff: the
        scenario's NIBP determinations arrive directly beside the oximeter's
        decoded bytes, so the baseline gate and the BP alarms still play out.
        A cut link silences both. A protocol with a session (IntelliVue)
        runs it in process: the codec's open requests and its due messages
        (:meth:`Codec.tick`: replies, polls, keep-alives) go to the encoder at
        every step, and are captured as ``"out"`` bytes; in a link loss they
        are lost too, so the simulated monitor hears the host fall silent.
    """

    simulated = True

    def __init__(self, scenario: Scenario, seed: int, duration_s: float | None = None,
                 label: str = "", protocol: str | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.duration_s = duration_s
        self.label = label or f"sim:{scenario.name}"
        self.protocol = protocol
        self._encoder = None
        self._codec = None
        if protocol is not None:
            import numpy as np

            from monitor.devices.protocols import codec_class
            from simulators.encoders import encoder_class

            cls = codec_class(protocol)
            # A simulated multiparameter monitor is asked for numerics every second.
            self._codec = cls(interval=1) if protocol == "datex-s5" else cls()
            self._encoder = encoder_class(protocol)(np.random.default_rng([seed, 0x51D]))
        self._engine: ScenarioEngine | None = None
        self._clock: Clock | None = None
        self._t = 0.0
        self._end: float | None = None
        self._done = False
        self._pending: list = []
        self._answers: list[bytes] = []   # the monitor's answers to the last step's messages
        self.separate_cuff = True
        """Whether an oximeter protocol has the scenario's separate cuff beside it; off when
        another simulated device of the chair takes the blood pressure."""

    @property
    def carries_nibp(self) -> bool:
        """Whether the simulated device's own protocol sends the blood pressure."""
        return self._codec is not None and self._codec.carries_nibp

    @property
    def measures(self) -> frozenset[Vital]:
        """What the simulated chair measures.

        Through a protocol: what the protocol carries, with a separate cuff's
        NIBP beside an oximeter; directly: HR, pulse rate, SpO2, pleth and RR.
        EtCO2 only with capnography, NIBP only with a cuff (the scenario's
        ``[baseline] capnography`` and ``[nibp] cuff``).
        """
        wire = None if self._codec is None else self._codec.measures
        out = set(_DIRECT if wire is None else wire)
        if not self.scenario.nibp.cuff:
            out -= set(NIBP_VITALS)
        elif self._codec is None or (not self._codec.carries_nibp and self.separate_cuff):
            out |= set(NIBP_VITALS)   # the scenario's own (separate) cuff
        elif not self._codec.carries_nibp:
            out -= set(NIBP_VITALS)   # another device of the chair takes the blood pressure
        if not self.scenario.baseline.capnography:
            out.discard(Vital.ETCO2)
        return frozenset(out)

    @property
    def phase_plan(self) -> Sequence[tuple[float, Phase]]:
        """The scenario's phases; the session ends when the run ends (the hub sets ENDED)."""
        if self._engine is None:
            return ()
        return [(t, p) for t, p in self._engine.phase_plan if p is not Phase.ENDED]

    @property
    def event_plan(self) -> Sequence[AddEvent]:
        """The scenario's scripted events at their session times, as if the nurse clicked them."""
        if self._engine is None:
            return ()
        start = self._engine.start
        return [AddEvent(e.kind, e.text, SCRIPTED_AUTHOR, start + e.at_min * 60.0)
                for e in sorted(self.scenario.events, key=lambda e: e.at_min)]

    @property
    def scripted_start(self) -> ScriptedStart:
        """The override the scenario declares for its scripted start (it passes the gate)."""
        shape = self.scenario.session
        return ScriptedStart(shape.override_clinician, shape.override_reason,
                             f"scenario {self.scenario.name}")

    def open(self, clock: Clock, session_start: float) -> None:
        self._clock = clock
        run_s = self.duration_s
        self._engine = ScenarioEngine(self.scenario, self.seed, session_start, run_s=run_s)
        self._end = session_start + self._engine.run_s
        now = clock.now()
        if now > session_start:
            # A resumed session: the patient's scenario went on while the app was
            # down; skip what would have been sent in the gap.
            self._engine.generate(now)
        self._t = max(now, session_start)
        if self._encoder is not None and self._codec is not None:
            # Heard even when resumed in a link loss: a protocol without a session
            # (Datex) would never ask again.
            request = self._codec.open_requests()
            self._encoder.receive(request)
            self._pending = [RawBytes(self._t, request, "out")] if request else []
            self._pending += self._to_monitor(self._t, lost=False)

    def read(self, should_stop: threading.Event) -> list[DriverItem] | None:
        if self._done or self._engine is None or self._clock is None:
            return None
        speed = self._clock.speed
        step = MAX_SPEED_STEP_S if speed is None else min(REAL_STEP_S * max(speed, 1.0),
                                                            MAX_STEP_S)
        target = self._t + step
        if self._end is not None and target >= self._end - 1e-9:
            target = self._end
            self._done = True
        if self._clock.sleep_until(target, should_stop):
            self._done = True
            return None
        self._t = target
        items = self._engine.generate(target)
        if self._encoder is None or self._codec is None:
            return items
        for item in items:
            self._encoder.push(item)
        lost = self._engine.link_lost(target)
        data = b"".join([*self._answers, *self._encoder.due(target)])
        self._answers = []
        pending, self._pending = self._pending, []
        if lost:
            # The cable is cut: the monitor keeps sending, nothing arrives; nor do the
            # host's requests.
            return [*pending, *self._to_monitor(target, lost)]
        cuff: list[DriverItem] = []
        if not self._codec.carries_nibp and self.separate_cuff:
            cuff = [i for i in items if isinstance(i, Reading) and i.vital in _NIBP]
        received: list = [RawBytes(target, data), *self._codec.feed(data, target)] if data else []
        # The host answers what it has just decoded; the monitor hears it at the next step.
        return [*pending, *cuff, *received, *self._to_monitor(target, lost)]

    def _to_monitor(self, t: float, lost: bool) -> list[RawBytes]:
        """The codec's due messages, heard by the simulated monitor unless the link is cut.

        The monitor handles them at once, after what it sent up to ``t`` (a renewed
        poll never cancels a result already due); its answers arrive at the next step.
        """
        assert self._encoder is not None and self._codec is not None
        out = []
        for message in self._codec.tick(t):
            if not lost:
                self._encoder.receive(message)
            out.append(RawBytes(t, message, "out"))
        if out and not lost:
            self._answers += self._encoder.due(t)
        return out

    def close(self) -> None:
        if self._encoder is not None and self._codec is not None:
            self._encoder.receive(self._codec.close_requests())
