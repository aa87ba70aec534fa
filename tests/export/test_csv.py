"""CSV export read back with the csv module and compared with the recording."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import numpy as np
import pytest

from monitor.core.vitals import SPECS, SUPPLEMENTARY_VITALS
from monitor.export.csv_export import (
    ALARM_COLUMNS,
    EVENT_COLUMNS,
    READING_COLUMNS,
    exported_vitals,
    write_csv,
)
from tests.export.helpers import read_csv


@pytest.fixture
def written(tmp_path, record, recorded):
    paths = write_csv(record, tmp_path / "session.csv")
    return record, [read_csv(p) for p in paths], paths, recorded.db


def test_three_files_with_the_documented_columns(written, tmp_path):
    _, (readings, events, alarms), paths, _ = written
    assert [p.name for p in paths] == ["session.csv", "session-events.csv",
                                       "session-alarms.csv"]
    assert tuple(readings[0]) == READING_COLUMNS
    assert tuple(events[0]) == EVENT_COLUMNS
    if alarms:
        assert tuple(alarms[0]) == ALARM_COLUMNS
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_every_reading_is_there_with_its_value_time_and_flags(written):
    rec, (rows, _, _), _, db = written
    by_vital: dict[str, list[dict]] = {}
    for r in rows:
        by_vital.setdefault(r["vital"], []).append(r)
    assert set(by_vital) == {v.value for v in exported_vitals(rec)}
    for v in exported_vitals(rec):
        s, got = rec.numerics[v], by_vital[v.value]
        assert len(got) == len(s)
        t_s = np.array([float(r["t_s"]) for r in got])
        np.testing.assert_allclose(t_s, s.t - rec.start, atol=0.0005)
        values = np.array([float(r["value"]) if r["value"] else np.nan for r in got])
        np.testing.assert_array_equal(values, s.v)          # exact, NaN where empty
        assert [r["manual"] == "1" for r in got] == list(s.manual)
        assert {r["unit"] for r in got} == {SPECS[v].unit}
        # the quality as recorded, read straight from the database
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            recorded = [q for (q,) in conn.execute(
                "SELECT quality FROM readings WHERE session_id = ? AND vital = ?"
                " ORDER BY t, rowid", (rec.session_id, v.value))]
        assert [r["quality"] for r in got] == recorded


def test_rows_are_in_time_order_and_iso_times_carry_the_offset(written):
    rec, (rows, events, alarms), _, _ = written
    for table in (rows, events, alarms):
        t_s = [float(r["t_s"]) for r in table]
        assert t_s == sorted(t_s)
        for r in table[:50]:
            when = datetime.fromisoformat(r["time_iso"])
            assert when.utcoffset().total_seconds() == rec.utc_offset_s
            assert abs(when.timestamp() - rec.start - float(r["t_s"])) < 0.002
            assert len(r["time_iso"].split("T")[1]) == len("09:14:05.250+01:00")


def test_supplementary_vitals_that_never_had_a_value_are_left_out(datex, tmp_path):
    rows = read_csv(write_csv(datex, tmp_path / "d.csv")[0])
    written = {r["vital"] for r in rows}
    empty = {v.value for v in SUPPLEMENTARY_VITALS
             if v in datex.numerics and not np.isfinite(datex.numerics[v].v).any()}
    assert empty and not empty & written
    # the monitor's own vitals are written even while they had no value (sensor off)
    assert any(r["vital"] == "spo2" and r["value"] == "" and r["quality"] == "no_value"
               for r in rows)


def test_events_file_has_events_corrections_infusion_notes_and_discharge(typical, tmp_path):
    events = read_csv(write_csv(typical, tmp_path / "s.csv")[1])
    nurse = {e.event_id: e for e in typical.events}
    rows = {(r["kind"], r["text"]): r for r in events}
    for e in nurse.values():
        r = rows[(e.kind.value, e.text)]
        assert float(r["t_s"]) == pytest.approx(e.t - typical.start, abs=0.0005)
        assert r["author"] == e.author
    headache = rows[("headache", "mild, wants water")]
    fix = typical.corrections[0]
    assert float(headache["corrected_from_t_s"]) == pytest.approx(fix.old_t - typical.start,
                                                                  abs=0.0005)
    assert rows[("note", nurse["n2"].text)]["corrected_from_t_s"] == ""
    kinds = [r["kind"] for r in events]
    for kind in ("phase_baseline", "phase_infusion", "infusion_start", "infusion_pause",
                 "infusion_resume", "alarm_action", "manual_entry", "discharged",
                 "session_end"):
        assert kind in kinds
    assert rows[("infusion_pause", "patient anxious")]["author"] == "Nurse Bob Ellis"


def test_alarms_file_has_every_transition(typical, tmp_path):
    alarms = read_csv(write_csv(typical, tmp_path / "s.csv")[2])
    assert len(alarms) == len(typical.alarms)
    for r, a in zip(alarms, sorted(typical.alarms, key=lambda a: a.t), strict=True):
        assert (r["alarm_id"], r["state"], r["priority"], r["kind"], r["message"], r["by"]) == \
            (a.alarm_id, a.state.value, a.priority.label, a.kind.value, a.message, a.by)
        assert r["vital"] == (a.vital.value if a.vital else "")
        assert (float(r["value"]) if r["value"] else None) == a.value
        assert (float(r["limit"]) if r["limit"] else None) == a.limit
        assert float(r["t_s"]) == pytest.approx(a.t - typical.start, abs=0.0005)


def test_progress_is_reported_up_to_the_end(typical, tmp_path):
    calls: list[tuple[int, int]] = []
    write_csv(typical, tmp_path / "s.csv", progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) <= 60


def test_deidentified_csv_has_relative_times_only(typical, tmp_path):
    readings, events, alarms = (read_csv(p) for p in write_csv(
        typical, tmp_path / "s.csv", deidentify=True, key=b"k" * 32))
    for table in (readings, events, alarms):
        assert "time_iso" not in table[0]
        assert all(r.get("author", "") == "" and r.get("by", "") == "" for r in table)
    assert float(readings[0]["t_s"]) == pytest.approx(
        min(s.t[0] for s in typical.numerics.values()) - typical.start, abs=0.0005)
    assert any(r["text"] == "patient anxious" for r in events)   # what was written is kept
