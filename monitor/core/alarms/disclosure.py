"""The alarm disclosure IEC 60601-1-8 asks of the instructions for use, rendered from a profile.

``python -m monitor.core.alarms.disclosure [PROFILE.toml]`` prints it as
Markdown; ``docs/ALARMS.md`` is this output for the shipped profile, and a
test keeps the two identical.
"""

from __future__ import annotations

import sys
from pathlib import Path

from monitor.core.alarms.model import Priority
from monitor.core.alarms.profile import AlarmProfile, Basis, Rule
from monitor.core.alarms.profile_file import load_default_profile, load_profile
from monitor.core.alarms.tones import ALARM_PATTERNS, FUNDAMENTAL_HZ

SIGNAL_GENERATION_DELAY = (
    "at most 250 ms from the reading (or clock tick) that completes the condition to the "
    "alarm bar and the start of the sound in the live view; measured p99 in "
    "bench/RESULTS.md")

TECHNICAL: tuple[tuple[str, str, str, str], ...] = (
    ("source.no_data", "No data from the monitor",
     "medium; high once the silence reaches {no_data_high:g} s while an infusion runs",
     "{stale:g} s of silence"),
    ("source.port_lost", "The serial port disappeared (USB unplugged)", "medium", "none"),
    ("source.undecodable", "Bytes arrive but the protocol cannot decode them", "medium",
     "10 s without a valid frame"),
    ("source.error", "The source failed (cannot be opened)", "medium", "none"),
    ("sensor.problem", "Probe off / sensor problem reported by the device", "medium", "none"),
    ("<vital>.stale", "A continuous vital with alarm limits (HR, PR, SpO2, RR, EtCO2) that "
     "was measured has no valid value while others arrive, and no other condition explains "
     "it (a vital the source never measured is \"not measured\", never this alarm)", "medium",
     "{stale:g} s (another {stale:g} s after a probe-off or no-data ends)"),
    ("nibp.overdue", "No NIBP determination for the phase's cycle plus {grace:g} s "
     "(cycle: baseline {base:g} min, infusion {inf_early:g} min for the first "
     "{inf_early_for:g} min then {inf:g} min, recovery {rec:g} min); not raised while no "
     "device of the session measures NIBP and none has been entered by hand",
     "low; medium {escalate:g} s later", "as stated"),
    ("nibp.no_source", "No device of the session measures NIBP (an oximeter alone): one "
     "reminder to enter NIBP by hand, then the NIBP cycle's prompt in the workflow strip",
     "low, latching (a reminder)", "at the session start"),
    ("recording.failed", "Readings cannot be written to the database", "medium, latching",
     "none (the recorder retries every 2 s)"),
    ("audio.unavailable", "No audio output for alarm sounds (also a permanent "
     "NO ALARM SOUND indicator)", "medium, latching", "checked at start and on device change"),
    ("data.lost", "A bounded queue overflowed and items were lost", "low, latching", "none"),
    ("system.error", "An internal error met one item; it was skipped and monitoring went on",
     "medium, latching", "none"),
)


def render(profile: AlarmProfile) -> str:
    """The disclosure of ``profile`` as Markdown."""
    p = profile
    lines = [
        f"# Alarm disclosure: {p.name}",
        "",
        "Generated from the alarm profile by `python -m monitor.core.alarms.disclosure`;"
        " do not edit by hand.",
        "",
        "**Condition delay** is how long a rule must hold before the alarm condition exists"
        " (NIBP: judged on each new determination, no delay). **Signal generation delay** is"
        f" {SIGNAL_GENERATION_DELAY}. The total delay is their sum, plus the device's own"
        " averaging.",
        "",
        "## Physiological alarms",
        "",
        "| alarm | priority | condition | condition delay | signal generation delay |",
        "|---|---|---|---|---|",
    ]
    for r in p.rules:
        if r.basis is not Basis.ABSOLUTE:
            continue
        lines.append(f"| `{r.alarm}` | {r.priority.label} | {_cond(r)} | {_delay(r)} "
                     "| ≤ 250 ms |")
    lines += [
        "",
        "Heart-rate rules use the ECG heart rate; while no valid ECG heart rate has arrived"
        " for the no-data delay, the oximeter's pulse rate stands in (the message then says"
        " PR). A rule is evaluated only on the readings of its vital: respiration-rate and"
        " EtCO2 rules apply when the monitor measures them (capnograph, impedance), and a"
        " source that cannot measure a vital shows it as \"not measured\", with no alarm."
        " A value reported with a caveat (low perfusion) is alarmed like any other. An alarm is raised at the priority of its most urgent rule that is met and"
        " escalates when a more urgent one is met; it does not step down while it lasts.",
        "",
        "## Baseline-relative advisories",
        "",
        "The baseline is taken in the pre-infusion phase (NIBP: mean of the last two"
        " determinations; HR, PR, SpO2: median of the last 5 minutes) and fixed when the"
        " infusion starts; these rules apply from then on.",
        "",
        "| alarm | priority | condition | condition delay |",
        "|---|---|---|---|",
    ]
    for r in p.rules:
        if r.basis is Basis.ABSOLUTE:
            continue
        lines.append(f"| `{r.alarm}` | {r.priority.label} | {_cond(r)} | {_delay(r)} |")
    c = p.nibp_cycle
    fmt = {"no_data_high": p.no_data_high_after_s, "stale": 10.0,
           "grace": p.nibp_overdue_grace_s, "escalate": p.nibp_overdue_escalate_s,
           "base": c.baseline_s / 60, "inf_early": c.infusion_early_s / 60,
           "inf_early_for": c.infusion_early_for_s / 60, "inf": c.infusion_s / 60,
           "rec": c.recovery_s / 60}
    lines += [
        "",
        "## Technical alarms",
        "",
        "A technical condition suppresses the physiological alarms of the vitals it makes"
        " invalid: a probe off or stale SpO2 is never a desaturation; no data invalidates"
        " everything. NIBP alarms stand until the next valid determination.",
        "",
        "| alarm | condition | priority | condition delay |",
        "|---|---|---|---|",
    ]
    for alarm_id, cond, prio, delay in TECHNICAL:
        lines.append(f"| `{alarm_id}` | {cond.format(**fmt)} | {prio.format(**fmt)} "
                     f"| {delay.format(**fmt)} |")
    hi, me, lo = (ALARM_PATTERNS[x] for x in (Priority.HIGH, Priority.MEDIUM, Priority.LOW))
    latching = ", ".join(pr.label for pr in Priority if p.latching[pr]) or "none"
    lines += [
        "",
        "## Signals and operator actions",
        "",
        "- Visual: high red flashing 2 Hz (50 % duty), medium yellow flashing 0.5 Hz (50 %),"
        " low cyan steady; acknowledged alarms stop flashing and keep their colour; the tile"
        " of the vital in alarm flashes with the bar.",
        f"- Sound: high {len(hi.pulses)} pulses (3 + 2, gap, 3 + 2) of"
        f" {hi.pulses[0].duration_s * 1000:.0f} ms every {hi.repeat_period_s:g} s; medium"
        f" {len(me.pulses)} pulses of {me.pulses[0].duration_s * 1000:.0f} ms every"
        f" {me.repeat_period_s:g} s; low {len(lo.pulses)} pulses once."
        f" {FUNDAMENTAL_HZ:g} Hz fundamental with harmonics 2-6. Only the highest"
        " priority sounds; never a continuous tone.",
        f"- Latching priorities: {latching} (and recording failure, no audio output, data"
        " lost). A latched alarm stays, marked \"cleared at hh:mm\", until acknowledged."
        f" Non-latching alarms stay visible at least {p.min_shown_s:g} s.",
        f"- Audio pause: {p.pause_s / 60:g} min by default (choices "
        + ", ".join(f"{x / 60:g}" for x in p.pause_choices_s)
        + " min), with a countdown; any new high-priority alarm ends it.",
        f"- One vital's alarms can be turned off (initials required) with a permanent banner"
        f" and a reminder tone every {p.off_reminder_s / 60:g} min; the alarms of every vital"
        " cannot all be off, and technical alarms cannot be turned off.",
        "- A crossed bell on a numeric tile says that vital raises no physiological alarm:"
        " its alarms were turned off, or the profile has no rule for it (e.g. the pulse rate"
        " while an ECG heart rate is alarmed).",
        "- Alarm log: every transition (raised, escalated, acknowledged, cleared with the worst"
        " value and the limit), every action and every limit change is written to the"
        " session's database within 0.5 s and survives power loss (SQLite WAL, synchronous"
        " FULL); it is never overwritten.",
        "",
    ]
    return "\n".join(lines)


def _cond(r: Rule) -> str:
    text = r.describe().replace(">=", "≥").replace("<=", "≤")
    if r.satseconds:
        text += f" (SatSeconds {r.satseconds:g})"
    return text


def _delay(r: Rule) -> str:
    if r.discrete:
        return "none (each determination)"
    if r.satseconds:
        return f"SatSeconds {r.satseconds:g}"
    return f"{r.delay_s:g} s" if r.delay_s < 60 else f"{r.delay_s / 60:g} min"


def main(argv: list[str] | None = None) -> int:
    """Print the disclosure of the given profile file (default: the shipped one)."""
    args = sys.argv[1:] if argv is None else argv
    profile = load_profile(Path(args[0])) if args else load_default_profile()
    sys.stdout.write(render(profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
