"""Which driver a ``--source`` names: the composition of every kind of source.

The device layer builds what a device sends (``serial:PORT``, ``lan:HOST`` or
``lan:discover``, ``hl7:[HOST:]PORT``, ``replay:FILE``:
:func:`monitor.devices.registry.device_driver`); here, above it, ``sim:`` is
the built-in simulator (:mod:`simulators`) and ``replay:SESSION`` a recorded
session read from the database, with its phases, events and the readings its
bytes cannot carry (:class:`~monitor.devices.replay.ReplayDriver`).

:func:`make_drivers` builds the drivers of a session's sources (a chair
configuration's entries, or the ``--source`` options): each gets its name, the
entry's own or its device name ("Masimo", "Datex S/5", a repeat " 2"), set here
so that the names the nurse sees are the ones the chair configuration's
``[priority]`` speaks of. A ``replay:SESSION`` of a session that recorded
several sources becomes one replay driver per recorded source, each with its
recorded name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.core.reading import Quality, Reading
from monitor.core.session import Phase
from monitor.core.vitals import NIBP_VITALS
from monitor.core.workflow.messages import (
    OVERRIDE_NOTE_PREFIX,
    AddEvent,
    InfusionAction,
    ScriptedStart,
)
from monitor.devices.base import Driver, SourceError
from monitor.devices.protocols import check_protocol, codec_class
from monitor.devices.registry import Hl7Options, SerialOverrides, SourceSpec, device_driver
from monitor.devices.replay import RecordedPlan, ReplayDriver, replay_banner
from monitor.storage.database import DB_NAME, default_data_dir
from monitor.storage.store import SessionStore

if TYPE_CHECKING:
    from monitor.acquisition.chair import SourceEntry


def make_driver(spec: SourceSpec, *, seed: int = 0, duration_s: float | None = None,
                protocol: str | None = None,
                overrides: SerialOverrides | None = None,
                data_dir: object = None, hl7: Hl7Options | None = None) -> Driver:
    """Build the driver for ``spec``.

    Raises
    ------
    SourceError
        Unknown scheme, missing protocol, file or session.
    simulators.scenario.ScenarioError
        Unknown or malformed scenario (the message names the valid scenarios,
        or the file and line).
    """
    if spec.scheme != "hl7" and hl7 is not None and hl7.given:
        raise SourceError("--bed, --hl7-allow, --hl7-tls-cert, --hl7-tls-key and "
                          "--hl7-code-map apply to hl7: sources only")
    if spec.scheme == "sim":
        from simulators.driver import SimulatedDriver
        from simulators.scenario import load_scenario

        if protocol is not None:
            check_protocol(protocol)
        return SimulatedDriver(load_scenario(spec.target), seed, duration_s, label=str(spec),
                               protocol=protocol)
    if spec.scheme == "replay" and not Path(spec.target).is_file() and spec.target.isdigit():
        folder = Path(str(data_dir)) if data_dir is not None else default_data_dir()
        db = folder / DB_NAME
        if not db.exists():
            raise SourceError(f"no recordings in {folder}")
        return from_session(db, int(spec.target))
    return device_driver(spec, duration_s=duration_s, protocol=protocol, overrides=overrides,
                         hl7=hl7)


def make_drivers(entries: Sequence[SourceEntry], *, seed: int = 0,
                 duration_s: float | None = None, data_dir: object = None,
                 problems: list[str] | None = None) -> list[Driver]:
    """The drivers of ``entries``, in order, each with its ``name`` set.

    ``problems``: when given, an entry whose driver cannot be built is left
    out and its message (``"source 2 (Monitor): ..."``) appended; otherwise
    the first such entry raises.

    Raises
    ------
    SourceError, simulators.scenario.ScenarioError, monitor.devices.protocols.ProtocolError
        An entry cannot be built (the message names the entry when there are
        several).
    """
    from monitor.acquisition.chair import entry_title
    from monitor.devices.protocols import ProtocolError, default_names
    from monitor.devices.registry import parse_source
    from simulators.scenario import ScenarioError

    drivers: list[Driver] = []
    for i, entry in enumerate(entries, start=1):
        try:
            spec = parse_source(entry.source)
            if _is_session(spec, data_dir):
                built = _session_drivers(spec, data_dir)
            else:
                built = [make_driver(spec, seed=seed, duration_s=duration_s,
                                     protocol=entry.protocol, overrides=entry.overrides,
                                     data_dir=data_dir, hl7=entry.hl7)]
        except (SourceError, ScenarioError, ProtocolError) as exc:
            if len(entries) == 1 and problems is None:
                raise
            message = f"{entry_title(i, entry)}: {exc}"
            if problems is None:
                raise SourceError(message) from None
            problems.append(message)
            continue
        if entry.name.strip() and len(built) == 1:
            built[0].name = entry.name.strip()
        drivers += built
    for driver, name in zip(drivers, default_names(drivers), strict=True):
        driver.name = name
    return drivers


def _is_session(spec: SourceSpec, data_dir: object) -> bool:
    return spec.scheme == "replay" and not Path(spec.target).is_file() \
        and spec.target.isdigit()


def _session_drivers(spec: SourceSpec, data_dir: object) -> list[Driver]:
    """``replay:SESSION``: one replay driver per recorded source (one for an old session)."""
    folder = Path(str(data_dir)) if data_dir is not None else default_data_dir()
    db = folder / DB_NAME
    if not db.exists():
        raise SourceError(f"no recordings in {folder}")
    try:
        from monitor.acquisition.session_replay import replay_drivers
    except ImportError:   # before multi-source replay: the session's one source
        return [from_session(db, int(spec.target))]
    return list(replay_drivers(db, int(spec.target)))


def _not_on_the_wire(reading: Reading, protocol_carries_nibp: bool) -> bool:
    """A reading the session recorded that its byte capture cannot reproduce."""
    if reading.quality is Quality.MANUAL:
        return True
    return reading.vital in NIBP_VITALS and not protocol_carries_nibp


@dataclass(frozen=True)
class SessionScript:
    """What a recorded session's bytes cannot carry, for its replay.

    Its phases and the nurse's events at their session times, how the infusion
    was started (through the gate, with the override it recorded), the planned
    infusion, and the banner naming the session replayed.
    """

    phases: list[tuple[float, Phase]]
    events: list[AddEvent]
    scripted: ScriptedStart | None
    planned: float | None
    banner: str


def session_script(store: SessionStore, session_id: int, start: float) -> SessionScript:
    """The :class:`SessionScript` of session ``session_id``, which started at ``start``."""
    phases = [(span.start - start, span.phase) for span in store.phases(session_id)
              if span.phase in (Phase.INFUSION, Phase.RECOVERY)]
    events = [AddEvent(e.kind, e.text, e.author, e.t - start)
              for e in store.session_events(session_id)
              if not e.text.startswith(OVERRIDE_NOTE_PREFIX)]  # the gate records it again
    actions = store.infusion_actions(session_id)
    setup = store.setup(session_id) or {}
    minutes = setup.get("planned_infusion_min")
    patient = setup.get("patient_ref")
    planned = float(minutes) * 60.0 if isinstance(minutes, (int, float)) and minutes > 0 else None
    scripted = None
    by = {a.action: a for a in reversed(actions)}   # the first of each
    if InfusionAction.START in by:
        first = by[InfusionAction.START]
        stop = by.get(InfusionAction.STOP)
        scripted = ScriptedStart(first.by, first.reason, f"session {session_id}", first.by,
                                 stop.by if stop is not None else first.by)
    what = f"session {session_id}" + (f" ({patient})" if patient else "")
    return SessionScript(phases, events, scripted, planned, replay_banner(what, start))


def from_session(db_path: Path, session_id: int) -> ReplayDriver:
    """A replay of session ``session_id``: its bytes, phases, events and off-wire readings."""
    with SessionStore(db_path) as store:
        try:
            protocol, chunks = store.raw_capture(session_id)
        except KeyError:
            raise SourceError(f"no session {session_id} in {db_path}; "
                              "see 'infusion-monitor sessions'") from None
        if not protocol:
            raise SourceError(f"session {session_id} has no raw capture to replay "
                              "(only sessions read through a protocol record one)")
        if not chunks:
            raise SourceError(f"session {session_id} recorded no bytes to replay")
        start = store.session(session_id).started_at
        codec_options = codec_class(protocol).replay_options(store.source_settings(session_id))
        carries_nibp = codec_class(protocol).carries_nibp
        readings = [r for r in store.readings(session_id) if _not_on_the_wire(r, carries_nibp)]
        script = session_script(store, session_id, start)
    cuff = frozenset(r.vital for r in readings
                     if r.vital in NIBP_VITALS and r.quality is not Quality.MANUAL)
    items: list[tuple[float, bytes | Reading]] = [(t - start, d) for t, d in chunks]
    items += [(r.t - start, r) for r in readings]
    # A reading the session took at the instant of a chunk came first (as a cuff's does).
    items.sort(key=lambda x: (x[0], isinstance(x[1], bytes)))
    return ReplayDriver(items, protocol, f"replay:session {session_id}",
                        RecordedPlan(script.phases, script.events, script.scripted,
                                     script.planned, cuff),
                        banner=script.banner, codec_options=codec_options)
