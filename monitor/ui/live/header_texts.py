"""What the live window's header says, from the live model's state (no Qt).

:class:`HeaderTextsMixin` is mixed into :class:`~monitor.ui.live.model.LiveModel`:
the device link line, the status messages (most important first), the ended
session's banner and the session and phase clocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.core.session import Phase, SessionModel
from monitor.ui.alarms.style import clock_text
from monitor.ui.shared.formatting import format_age

if TYPE_CHECKING:
    from monitor.core.events import Condition, SourceStatus, StreamEnded
    from monitor.core.vitals import Vital
    from monitor.core.workflow.setup import SessionSetup

OVERFLOW_SHOWN_S = 60.0
"""How long (clock seconds) a UI-queue overflow warning stays after the last loss."""

NOTE_SHOWN_S = 60.0
"""How long a "recording resumed" note stays in the status line."""


NO_SETUP_TEXT = "No patient set-up"
DEMO_FLAG_SUFFIX = ".demo_data"
"""A device flag ending so says the monitor sends demo or test data (IntelliVue)."""
DEMO_BANNER = "MONITOR IN DEMO MODE \u2014 NOT PATIENT DATA"
"""The header's patient line of a session started without the *New session* form."""


def context_texts(setup: SessionSetup | None) -> list[str]:
    """Who and what the session is, longest first; the header shows the first that fits.

    ``"PT-0042 · 0.5 mg/kg × 72 kg = 36 mg over 40 min · session 2 of 6 · Dr A. Rivera"``,
    then shorter by rule: the clinician goes first, then the weight
    arithmetic, then the words; the patient, the dose and the course number
    stay to the last.
    """
    if setup is None:
        return [NO_SETUP_TEXT]
    total = f"{setup.total_mg:g} mg"
    minutes = f"{setup.planned_infusion_min:g} min"
    of = f" of {setup.course_total}" if setup.course_total else ""
    course = f"session {setup.course_number}{of}"
    short = (f"{setup.course_number}/{setup.course_total}" if setup.course_total
             else f"#{setup.course_number}")
    dose = f"{setup.dose_mg_per_kg:g} mg/kg \u00d7 {setup.weight_kg:g} kg = {total}"
    ref = setup.patient_ref
    return [
        f"{ref} \u00b7 {dose} over {minutes} \u00b7 {course} \u00b7 {setup.clinician}",
        f"{ref} \u00b7 {dose} over {minutes} \u00b7 {course}",
        f"{ref} \u00b7 {total} over {minutes} \u00b7 {course}",
        f"{ref} \u00b7 {total} / {minutes} \u00b7 {short}",
        f"{ref} \u00b7 {short}",
    ]


class HeaderTextsMixin:
    """The header's texts; the live model holds the state they are made of."""

    session: SessionModel | None
    source_status: SourceStatus | None
    source_statuses: dict[str, SourceStatus]
    stream_ended: StreamEnded | None
    resume_text: str
    recording_message: str
    overflow_lost: int
    _device_flags: dict[tuple[str, str], str]
    _technical: dict[tuple[Condition, Vital | None, str], str]
    _overflow_at: float | None
    _recording_note_at: float | None

    def device_text(self, now: float) -> str:
        """The device link as the nurse sees it: connected, data rate, bad frames, last data.

        With several devices, one line per device, each starting with its name
        (see :meth:`device_texts`), joined here for callers that want one text.
        """
        return "  |  ".join(self.device_texts(now))

    def device_texts(self, now: float) -> list[str]:
        """One device-link text per device (one without a name for a single device)."""
        named = [st for name, st in self.source_statuses.items() if name]
        if len(named) > 1:   # short while well, the whole story once not
            return [f"{st.source}: {_short_link_text(st, now) or _link_text(st, now)}"
                    for st in named] + self.central_texts()
        st = self.source_status
        return ([] if st is None else [_link_text(st, now)]) + self.central_texts()

    def central_texts(self) -> list[str]:
        """The central station's link, when the chair publishes to one ("" otherwise)."""
        link = getattr(self, "central_link", None)
        if link is None:
            return []
        if not link.connected:
            return [f"Central: NOT CONNECTED \u00b7 {link.message}"]
        confirmed = (f" \u00b7 {link.alarms_confirmed} of {link.alarms_sent} alarms "
                     "confirmed by the desk" if link.alarms_sent else "")
        lost = f" \u00b7 {link.dropped} messages lost" if link.dropped else ""
        return [f"Central: connected{confirmed}{lost}"]

    def demo_banner(self) -> str:
        """The banner of a monitor in demo or test mode ("" when none is): not a patient."""
        if any(name.endswith(DEMO_FLAG_SUFFIX) for _, name in self._device_flags):
            return DEMO_BANNER
        return ""

    def status_messages(self, now: float) -> list[str]:
        """Technical and session messages for the header, most important first."""
        out: list[str] = []
        out.extend(self.device_texts(now))
        several = len([n for n in self.source_statuses if n]) > 1
        out.extend(f"{source if several and source else 'Device'}: {text}"
                   for (source, _), text in self._device_flags.items())
        ended = self.ended_text()
        if ended:
            out.insert(0, ended)
        if self._overflow_at is not None and now - self._overflow_at <= OVERFLOW_SHOWN_S:
            out.append(f"UI queue overflow: {self.overflow_lost} items lost")
        out.extend(self._technical.values())
        if self.resume_text:
            out.append(self.resume_text)
        if self._recording_note_at is not None and now - self._recording_note_at <= NOTE_SHOWN_S:
            out.append(self.recording_message[:1].upper() + self.recording_message[1:])
        return out

    @property
    def ended_at(self) -> float | None:
        """When the session ended (or its source did), ``None`` while it is live."""
        if self.session is not None and self.session.phase is Phase.ENDED:
            return self.session.phase_started_at()
        if self.stream_ended is not None:
            return self.stream_ended.t
        return None

    def ended_text(self) -> str:
        """The ended session's banner ("SESSION ENDED at 16:02 (source ended) ..."), or ""."""
        ended = self.ended_at
        if ended is None:
            return ""
        reason = self.stream_ended.reason if self.stream_ended is not None else ""
        why = f" ({reason})" if reason else ""
        return (f"SESSION ENDED at {clock_text(ended)}{why}: not monitoring, "
                "nothing more is recorded")

    def session_elapsed(self, now: float) -> float | None:
        """Seconds since the session started (frozen once it ended), ``None`` before one."""
        if self.session is None:
            return None
        if self.session.phase is Phase.ENDED:
            now = min(now, self.session.phase_started_at())
        return self.session.elapsed(now)

    def phase_elapsed(self, now: float) -> float:
        """Seconds since the current phase began (0 without a session)."""
        if self.session is None:
            return 0.0
        return now - self.session.phase_started_at()


HEALTHY_DATA_S = 10.0
"""A device whose last valid data is younger than this is summarised as "OK"."""


def _short_link_text(st: SourceStatus, now: float) -> str:
    """ "OK · last data 1 s" for a device that is well, else "" (say the whole link)."""
    if not (st.connected and st.link_ok) or st.last_data_t is None:
        return ""
    age = max(0.0, now - st.last_data_t)
    if age > HEALTHY_DATA_S:
        return ""
    bad = f" \u00b7 {st.frames_bad} bad frames" if st.frames_bad else ""
    return f"OK \u00b7 last data {format_age(age)}{bad}"


def _link_text(st: SourceStatus, now: float) -> str:
    """One device link: connected, protocol session, data rate, bad frames, last data."""
    if not st.connected:
        return f"DEVICE DISCONNECTED: {st.message or st.label}"
    if st.link_state and not st.link_ok:
        # Bytes may flow, but the monitor does not (yet) export data: say why first.
        return (f"MONITOR NOT SENDING DATA: {st.link_state} \u00b7 {st.label}"
                f" \u00b7 {st.bytes_per_s:.0f} B/s")
    parts = [f"{st.label}", f"{st.bytes_per_s:.0f} B/s"]
    if st.link_state:
        parts.insert(1, st.link_state)
    if st.detail:
        parts.insert(2 if st.link_state else 1, st.detail)
    if st.frames_bad:
        parts.append(f"{st.frames_bad} bad frames")
    if st.last_data_t is not None:
        parts.append(f"last data {format_age(max(0.0, now - st.last_data_t))}")
    else:
        parts.append("no valid data yet")
    return " \u00b7 ".join(parts)
