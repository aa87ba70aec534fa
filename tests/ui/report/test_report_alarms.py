"""The PDF report's alarms: one bar and one row per priority episode, technical alarms apart.

Real recordings by headless simulated runs: the hypertensive surge (its
systolic alarm raised medium and escalated to high) and a link loss (a
technical NO DATA alarm, medium then high). Each report is read back with
QtPdf.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PySide6.QtPdf import QPdfDocument

from monitor.core.alarms.model import AlarmKind, Priority, TransitionState
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.vitals import Vital
from monitor.review.record import SessionRecord, load_record
from monitor.review.summary import summarize
from monitor.storage import database
from monitor.ui.report.charts import ChartData
from monitor.ui.report.limits import limit_steps
from monitor.ui.report.pdf import write_pdf
from monitor.ui.report.plot import TECHNICAL_LABEL
from monitor.ui.report.text import Clock
from tests.integration.helpers import REPO, monitor_cmd


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict[str, SessionRecord]:
    data = tmp_path_factory.mktemp("report-alarms")
    for scenario in ("hypertensive-surge", "link-loss"):
        subprocess.run(monitor_cmd("run", "--headless", "--source", f"sim:{scenario}",
                                   "--speed", "max", "--data-dir", str(data)),
                       check=True, capture_output=True, timeout=120, cwd=REPO)
    path = database.open_database(data)
    return {"surge": load_record(path, 1), "link": load_record(path, 2)}


def _chart(record: SessionRecord) -> ChartData:
    profile = load_default_profile()
    return ChartData(record.start, max(record.end, record.start + 60.0), record.numerics,
                     record.phases, limit_steps(profile, record.limit_changes, record.start,
                                                record.end),
                     [], record.alarm_spans(), Clock(record.start, record.utc_offset_s))


def _pdf_text(record: SessionRecord, path: Path) -> str:
    write_pdf(record, path)
    doc = QPdfDocument()
    assert doc.load(str(path)) == QPdfDocument.Error.None_
    text = " ".join(" ".join(doc.getAllText(i).text().split()) for i in range(doc.pageCount()))
    doc.close()
    return text


def _transitions(record: SessionRecord, alarm_id: str):
    log = [a for a in record.alarms if a.alarm_id == alarm_id]
    return tuple(next(a for a in log if a.state is s) for s in (
        TransitionState.RAISED, TransitionState.ESCALATED, TransitionState.CLEARED))


def test_an_escalated_alarm_is_two_bars_each_in_its_priority_lane(qapp, records):
    record = records["surge"]
    raised, escalated, cleared = _transitions(record, "nibp_sys.high")
    lanes = _chart(record).lanes
    bars = [(lane.priority, s.start, s.end) for lane in lanes for s in lane.spans
            if s.alarm_id == "nibp_sys.high"]
    assert sorted(bars) == sorted([(Priority.MEDIUM, raised.t, escalated.t),
                                   (Priority.HIGH, escalated.t, cleared.t)])
    for lane in lanes:
        assert not lane.technical and all(s.priority is lane.priority for s in lane.spans)
    assert [lane.priority for lane in lanes] == sorted((lane.priority for lane in lanes),
                                                       reverse=True)   # high on top


def test_technical_alarms_have_their_own_lane(qapp, records):
    record = records["link"]
    technical = [s for s in record.alarm_spans() if s.kind is AlarmKind.TECHNICAL]
    assert technical
    lanes = _chart(record).lanes
    tech_lanes = [lane for lane in lanes if lane.technical]
    assert tech_lanes and all(lane.label == TECHNICAL_LABEL for lane in tech_lanes)
    assert sorted(s.start for lane in tech_lanes for s in lane.spans) == sorted(
        s.start for s in technical)
    assert all(not s.technical for lane in lanes if not lane.technical for s in lane.spans)
    assert lanes[-len(tech_lanes):] == tech_lanes   # under the clinical lanes


def test_pdf_lists_each_episode_with_its_peak_and_counts_apart(qapp, records, tmp_path):
    record = records["surge"]
    text = _pdf_text(record, tmp_path / "surge.pdf")
    raised, escalated, cleared = _transitions(record, "nibp_sys.high")
    t, v = record.numerics[Vital.NIBP_SYS].valid()
    medium_peak = v[(t >= raised.t) & (t < escalated.t)].max()
    high_peak = v[(t >= escalated.t) & (t < cleared.t)].max()
    minutes = round((escalated.t - raised.t) / 60)
    assert (f"{' '.join(raised.message.split())} medium {minutes} min, then high "
            f"{medium_peak:.0f} mmHg") in text
    high_minutes = round((cleared.t - escalated.t) / 60)
    assert (f"{' '.join(escalated.message.split())} HIGH {high_minutes} min "
            f"{high_peak:.0f} mmHg") in text
    s = summarize(record)
    counts = ", ".join(f"{p.label} {s.alarm_counts[p]}" for p in sorted(Priority, reverse=True))
    assert s.escalated_alarms >= 1
    assert (f"Alarms {counts} ({sum(s.alarm_counts.values())} physiological, "
            f"{s.escalated_alarms} escalated (one row per priority below)) · technical 0") \
        in " ".join(text.split())


def test_pdf_of_a_technical_alarm_counts_it_apart(qapp, records, tmp_path):
    record = records["link"]
    text = _pdf_text(record, tmp_path / "link.pdf")
    raises = sum(1 for a in record.alarms if a.kind is AlarmKind.TECHNICAL
                 and a.state is TransitionState.RAISED)
    physio = summarize(record).alarm_counts
    assert raises and physio == {p: 0 for p in Priority}
    assert f"Alarms high 0, medium 0, low 0 (0 physiological) · technical {raises}" in text
    assert "medium, technical" in text and TECHNICAL_LABEL in text
