"""HL7 v2.6 ORU^R01 export: every message validated by hl7apy and compared with the recording."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import numpy as np
import pytest

from monitor.core.vitals import NIBP_VITALS, SPECS, Vital
from monitor.export.common import ExportError, deidentify, pseudonym, pseudonym_key
from monitor.export.hl7 import (
    AUTO_METHOD,
    DEIDENTIFIED_EPOCH,
    EXPORTED_VITALS,
    MANUAL_METHOD,
    PROFILE_ID,
    SERVICE_ID,
    Hl7Error,
    read_messages,
    session_messages,
    write_hl7,
)
from tests.export.hl7_fixtures import (
    MANUAL_HR,
    MANUAL_NIBP,
    PATIENT,
    dtm_to_unix,
    field,
    headless_record,
    record_with_manual_entries,
    validated,
)

BY_CODE = {f"{SPECS[v].mdc_code}^{SPECS[v].mdc_ref}^MDC": v for v in EXPORTED_VITALS}


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    return record_with_manual_entries(tmp_path_factory.mktemp("hl7-session"))


@pytest.fixture(scope="module")
def sensor_off(tmp_path_factory):
    """A headless session through the SpO2 probe coming off at 30 min for 30 s."""
    return headless_record(tmp_path_factory.mktemp("hl7-sensor-off"), "sensor-off", 1860)


def _observations(msg):
    """(vital, value, Unix time, method, status, unit) of every OBX of a parsed message."""
    out = []
    order = msg.oru_r01_patient_result.oru_r01_order_observation
    for obs in order.oru_r01_observation:
        obx = obs.obx
        assert obx.obx_2.to_er7() == "NM"
        vital = BY_CODE[obx.obx_3.to_er7()]
        out.append((vital, float(obx.obx_5.to_er7()), dtm_to_unix(obx.obx_14.to_er7()),
                    obx.obx_17.to_er7(), obx.obx_11.to_er7(), obx.obx_6.to_er7()))
    return out


def test_every_message_is_valid_and_carries_every_recorded_value(record, tmp_path):
    messages = session_messages(record)
    assert messages
    sent: list[tuple[Vital, float, float, bool]] = []
    control_ids = []
    for er7 in messages:
        msg = validated(er7, tmp_path / "report.txt")
        msh = msg.msh
        assert msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
        assert msh.msh_12.to_er7() == "2.6"
        assert msh.msh_21.to_er7() == PROFILE_ID
        control_ids.append(msh.msh_10.to_er7())
        pid = msg.oru_r01_patient_result.oru_r01_patient.pid
        assert pid.pid_3.to_er7() == f"{PATIENT}^^^INFUSION-MONITOR^PI"
        obr = msg.oru_r01_patient_result.oru_r01_order_observation.obr
        assert obr.obr_4.to_er7() == SERVICE_ID
        obs = _observations(msg)
        assert dtm_to_unix(obr.obr_7.to_er7()) == pytest.approx(min(o[2] for o in obs),
                                                                abs=1e-6)
        for vital, value, t, method, status, unit in obs:
            spec = SPECS[vital]
            assert unit == f"{spec.unit_mdc_code}^{spec.unit_mdc_ref}^MDC"
            assert status == "F"
            assert method in (AUTO_METHOD, MANUAL_METHOD)
            sent.append((vital, value, t, method == MANUAL_METHOD))
    assert len(set(control_ids)) == len(messages), "control ids repeat"
    recorded = []
    for vital in EXPORTED_VITALS:
        s = record.numerics.get(vital)
        if s is None:
            continue
        ok = np.isfinite(s.v)
        recorded += [(vital, v, t, m) for t, v, m in zip(s.t[ok], s.v[ok], s.manual[ok],
                                                       strict=True)]
    assert len(sent) == len(recorded)
    key = lambda x: (x[0].value, round(x[2], 3), x[1])
    for got, want in zip(sorted(sent, key=key), sorted(recorded, key=key), strict=True):
        assert got[0] is want[0] and got[1] == want[1] and got[3] == bool(want[3])
        assert got[2] == pytest.approx(want[2], abs=5e-4), "time off by more than 0.5 ms"


def test_values_group_by_second_and_each_nibp_is_a_message_of_its_own(record):
    messages = session_messages(record)
    nibp_codes = {c for c, v in BY_CODE.items() if v in NIBP_VITALS}
    nibp_msgs = 0
    for er7 in messages:
        codes = [field(er7, "OBX", 3, i) for i in range(er7.count("\rOBX|"))]
        times = [dtm_to_unix(field(er7, "OBX", 14, i)) for i in range(len(codes))]
        assert len(codes) == len(set(codes)), "a vital twice in one message"
        if set(codes) & nibp_codes:
            nibp_msgs += 1
            assert set(codes) <= nibp_codes and len(set(times)) == 1
        else:
            seconds = {math.floor(t - record.start) for t in times}
            assert len(seconds) == 1, "continuous values of different seconds together"
    nibp = record.numerics[Vital.NIBP_SYS]
    assert nibp_msgs == int(np.isfinite(nibp.v).sum()) == 2   # the cuff's and the typed one
    assert [dtm_to_unix(field(m, "MSH", 7)) for m in messages] == sorted(
        dtm_to_unix(field(m, "MSH", 7)) for m in messages)


def test_typed_in_values_are_marked_manual(record, tmp_path):
    manual = []
    for er7 in session_messages(record):
        if MANUAL_METHOD not in er7:
            continue
        for vital, value, _, method, _, _ in _observations(validated(er7, tmp_path / "r.txt")):
            if method == MANUAL_METHOD:
                manual.append((vital, value))
    sys_, dia = MANUAL_NIBP
    mean = round(dia + (sys_ - dia) / 3)
    assert sorted(manual) == sorted([(Vital.NIBP_SYS, sys_), (Vital.NIBP_DIA, dia),
                                     (Vital.NIBP_MEAN, mean), (Vital.HR, MANUAL_HR)])


@pytest.mark.parametrize(("offset_s", "suffix"), [(-5 * 3600, "-0500"), (19800, "+0530"),
                                                  (0, "+0000")])
def test_times_carry_the_recording_pcs_utc_offset(record, offset_s, suffix):
    rec = dataclasses.replace(record, utc_offset_s=offset_s)
    messages = session_messages(rec)
    first = field(messages[0], "MSH", 7)
    assert first.endswith(suffix)
    first_reading = min(float(s.t[np.isfinite(s.v)][0]) for v, s in record.numerics.items()
                        if v in EXPORTED_VITALS)
    assert dtm_to_unix(first) == pytest.approx(first_reading, abs=5e-4)


def test_deidentified_messages_hold_the_pseudonym_and_start_in_2000(record, tmp_path):
    key = pseudonym_key(tmp_path)
    plain = session_messages(record)
    messages = session_messages(record, deidentify=True, key=key)
    assert len(messages) == len(plain)
    alias = pseudonym(PATIENT, key)
    for er7 in messages[:20] + messages[-5:]:
        validated(er7, tmp_path / "report.txt")
    for er7 in messages:
        assert PATIENT not in er7
        assert field(er7, "PID", 3) == f"{alias}^^^INFUSION-MONITOR^ANON"
        assert field(er7, "PID", 5) == "^^^^^^U"
        assert field(er7, "MSH", 7).startswith("20000101") and field(er7, "MSH", 7)[-5:] == \
            "+0000"
    # times keep their distance from the session start
    for a, b in zip(plain, messages, strict=True):
        assert dtm_to_unix(field(b, "MSH", 7)) - DEIDENTIFIED_EPOCH == pytest.approx(
            dtm_to_unix(field(a, "MSH", 7)) - record.start, abs=1e-3)
    assert not {field(m, "MSH", 10) for m in plain} & {field(m, "MSH", 10) for m in messages}
    assert session_messages(record, deidentify=True, key=key) == messages   # stable
    assert session_messages(deidentify(record, key)) == messages   # de-identified before
    no_key = session_messages(record, deidentify=True)
    assert field(no_key[0], "PID", 3).startswith(f"SESSION-{record.session_id}^")


def test_readings_with_no_value_are_never_sent(sensor_off, tmp_path):
    messages = session_messages(sensor_off, deidentify=True)
    start = sensor_off.start
    off = [m for m in messages if 1795 <= dtm_to_unix(field(m, "MSH", 7)) - DEIDENTIFIED_EPOCH
           < 1835]
    assert len(off) == 40
    spo2 = f"{SPECS[Vital.SPO2].mdc_code}^"
    pr = f"{SPECS[Vital.PULSE_RATE].mdc_code}^"
    gaps = 0
    for er7 in off:
        msg = validated(er7, tmp_path / "report.txt")
        vitals = {o[0] for o in _observations(msg)}
        assert Vital.HR in vitals   # the ECG heart rate goes on
        gaps += spo2 not in er7 and pr not in er7
    series = sensor_off.numerics[Vital.SPO2]
    no_value = (~np.isfinite(series.v)) & (series.t - start >= 1795) & (series.t - start < 1835)
    assert gaps == int(no_value.sum()) == 30
    assert all("NaN" not in m and "nan" not in m for m in messages)


def test_a_session_without_patient_reference_is_refused_unless_deidentified(sensor_off):
    with pytest.raises(Hl7Error, match=r"session 1 has no patient reference .*de-identified"):
        session_messages(sensor_off)
    assert field(session_messages(sensor_off, deidentify=True)[0], "PID", 3) == \
        "SESSION-1^^^INFUSION-MONITOR^ANON"


def test_text_with_hl7_delimiters_is_escaped(record, tmp_path):
    rec = dataclasses.replace(record, patient_ref="AB^12|x")
    messages = session_messages(rec, facility="Ward 3 & Co")
    msg = validated(messages[0], tmp_path / "report.txt")
    pid3 = msg.oru_r01_patient_result.oru_r01_patient.pid.pid_3
    assert pid3.to_er7() == r"AB\S\12\F\x^^^Ward 3 \T\ Co^PI"
    assert msg.msh.msh_4.to_er7() == r"Ward 3 \T\ Co"


def test_write_hl7_writes_the_messages_and_reports_progress(record, tmp_path):
    path = tmp_path / "session.hl7"
    calls: list[tuple[int, int]] = []
    n = write_hl7(record, path, progress=lambda done, total: calls.append((done, total)))
    messages = session_messages(record)
    assert n == len(messages)
    raw = path.read_bytes()
    assert raw.split(b"\n")[:-1] == [m.encode() for m in messages] and raw.endswith(b"\r\n")
    assert read_messages(path) == messages
    assert calls[-1] == (n, n) and len(calls) <= 52
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert Counter(field(m, "MSH", 10) for m in read_messages(path)).most_common(1)[0][1] == 1


def test_an_unwritable_path_leaves_nothing_behind(record, tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        write_hl7(record, tmp_path / "missing" / "s.hl7")
    folder = tmp_path / "is-a-folder.hl7"
    folder.mkdir()
    with pytest.raises(ExportError, match="it is a folder"):
        write_hl7(record, folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["is-a-folder.hl7"]


def test_a_session_with_nothing_to_send_is_refused(record, tmp_path):
    empty = dataclasses.replace(record, numerics={})
    assert session_messages(empty) == []
    with pytest.raises(Hl7Error, match="no values to send"):
        write_hl7(empty, tmp_path / "x.hl7")
    assert not (tmp_path / "x.hl7").exists()
