"""A recorded session replayed as the devices it had: one replay driver per source.

:func:`replay_drivers` reads a session from the database and gives one
:class:`~monitor.devices.replay.ReplayDriver` per recorded source that has a
raw capture, in the session's source order, each named as it was recorded
(its ``name``), with its own protocol and the codec options of its own
settings (an HL7 feed's bed...). The pipeline runs them side by side as it
ran the devices, so the replay selects, falls back and alarms as the session
did.

Choices:

* The session's own doings go with the **first** driver only: the recorded
  phases, the nurse's events, the scripted infusion start, the planned time,
  and the typed (manual) readings, none of which belongs to a device. Given
  to every driver they would be replayed once per device.
* A reading a device's bytes cannot reproduce (blood pressure recorded under
  an oximeter's name: a cuff beside it whose readings the session took as
  that source's) is replayed by **that** source's driver, so it comes back
  with the name it was recorded with.
* A source without a raw capture (a simulator without a protocol) cannot be
  replayed and is left out; a session none of whose sources has one is
  refused with the message :func:`monitor.acquisition.sources.from_session`
  gives for a single source.
* A single-source session gives one driver equal to ``from_session``'s (same
  label, items and plan).
"""

from __future__ import annotations

from pathlib import Path

from monitor.acquisition.sources import session_script
from monitor.core.reading import Quality, Reading
from monitor.core.vitals import NIBP_VITALS
from monitor.devices.base import SourceError
from monitor.devices.protocols import PROTOCOLS, codec_class
from monitor.devices.replay import RecordedPlan, ReplayDriver
from monitor.storage.store import SessionStore

__all__ = ["replay_drivers"]


def replay_drivers(db_path: Path, session_id: int) -> list[ReplayDriver]:
    """One replay driver per recorded source of session ``session_id`` that has a raw capture.

    Raises
    ------
    SourceError
        No such session, or no source with a raw capture or with bytes in it.
    """
    with SessionStore(db_path) as store:
        try:
            sources = store.sources(session_id)
        except KeyError:
            raise SourceError(f"no session {session_id} in {db_path}; "
                              "see 'infusion-monitor sessions'") from None
        captures = []
        for src in sources:
            if not src.protocol or src.protocol not in PROTOCOLS:
                continue
            protocol, chunks = store.raw_capture(session_id, src.name)
            if protocol and chunks:
                captures.append((src, protocol, chunks))
        if not captures:
            if not any(s.protocol for s in sources):
                raise SourceError(f"session {session_id} has no raw capture to replay "
                                  "(only sessions read through a protocol record one)")
            raise SourceError(f"session {session_id} recorded no bytes to replay")
        start = store.session(session_id).started_at
        off_wire: dict[str, list[Reading]] = {}
        for src, protocol, _ in captures:
            carries_nibp = codec_class(protocol).carries_nibp
            off_wire[src.name] = [r for r in store.readings(session_id, source=src.name)
                                  if r.vital in NIBP_VITALS and not carries_nibp]
        manual = [r for r in store.readings(session_id) if r.quality is Quality.MANUAL]
        script = session_script(store, session_id, start)
    several = len(sources) > 1
    drivers = []
    for i, (src, protocol, chunks) in enumerate(captures):
        readings = sorted([*off_wire[src.name], *(manual if i == 0 else [])],
                          key=lambda r: r.t)
        cuff = frozenset(r.vital for r in off_wire[src.name])
        plan = (RecordedPlan(script.phases, script.events, script.scripted, script.planned,
                             cuff) if i == 0 else RecordedPlan(off_wire=cuff))
        items: list[tuple[float, bytes | Reading]] = [(t - start, d) for t, d in chunks]
        items += [(r.t - start, r) for r in readings]
        # A reading the session took at the instant of a chunk came first (as a cuff's does).
        items.sort(key=lambda x: (x[0], isinstance(x[1], bytes)))
        label = f"replay:session {session_id}" + (f" {src.name}" if several else "")
        driver = ReplayDriver(items, protocol, label, plan, banner=script.banner,
                              codec_options=codec_class(protocol).replay_options(src.settings))
        driver.name = src.name
        drivers.append(driver)
    return drivers
