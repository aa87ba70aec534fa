"""The app asks for a new session's set-up, saves it with the session, and reloads it on resume."""

from __future__ import annotations

import pytest

from monitor.acquisition.sources import make_driver
from monitor.app import (
    GuiOptions,
    SetupCancelled,
    prepare_session,
    session_setup,
    setup_from_record,
    setup_record,
)
from monitor.cli import build_parser
from monitor.core.session import SessionStatus
from monitor.core.workflow.setup import SessionSetup
from monitor.devices.registry import parse_source
from monitor.storage import database

SETUP = SessionSetup("JD-104", 72.5, 0.5, "Dr Lee", planned_infusion_min=60, course_number=3,
                     course_total=6, alarm_profile="Ketamine infusion, adult",
                     source="sim:typical", phq9=18, madrs=31)


def _options(data_dir, setup=True):
    driver = make_driver(parse_source("sim:typical"), seed=0)
    return GuiOptions(driver, data_dir, None, 10.0, setup=setup)


def test_record_uses_the_stored_names_and_adds_the_total():
    record = setup_record(SETUP)
    assert record["total_mg"] == 36.3
    assert (record["pre_phq9"], record["pre_madrs"]) == (18, 31)
    assert "source" not in record and "phq9" not in record and "post_cadss" not in record
    assert set(record) <= set(database.SETUP_FIELDS)
    assert setup_from_record(record, "sim:typical") == SETUP


def test_an_incomplete_record_gives_no_setup():
    assert setup_from_record(None) is None
    assert setup_from_record({"patient_ref": "AB", "weight_kg": None}) is None


def test_a_new_session_asks_for_the_setup_and_saves_it(tmp_path):
    asked = []

    def ask():
        asked.append(True)
        return SETUP

    pipeline, _ = prepare_session(_options(tmp_path), lambda row, gap: False, ask_setup=ask)
    pipeline.start()
    try:
        assert asked == [True]
        saved = database.load_setup(pipeline.db_path, pipeline.session_id)
        assert saved["patient_ref"] == "JD-104" and saved["total_mg"] == 36.3
        assert saved["planned_infusion_min"] == 60 and saved["pre_madrs"] == 31
        assert session_setup(pipeline) == SETUP
    finally:
        pipeline.stop()
        assert pipeline.join(timeout=15)


def _crashed(tmp_path) -> tuple:
    """An open session whose writer is gone (as a crash leaves it), with a saved set-up."""
    db = database.open_database(tmp_path)
    sid = database.create_session(db, started_at=1_750_000_000.0, source="sim:typical",
                                  simulated=True)
    database.save_setup(db, sid, setup_record(SETUP))
    with database.write_transaction(db) as conn:
        conn.execute("UPDATE sessions SET writer_pid = NULL WHERE id = ?", (sid,))
    assert [r.id for r in database.find_unfinished(db)] == [sid]
    return db, sid


def test_cancelling_the_setup_changes_nothing(tmp_path):
    db, sid = _crashed(tmp_path)
    with pytest.raises(SetupCancelled):
        prepare_session(_options(tmp_path), lambda row, gap: False, ask_setup=lambda: None)
    # The unfinished session is not closed, and no new session was made.
    assert [(r.id, r.status) for r in database.list_sessions(db)] == [(sid, SessionStatus.OPEN)]


def test_a_resumed_session_is_not_asked_again_and_gets_its_saved_setup(tmp_path):
    _, sid = _crashed(tmp_path)

    def never():
        raise AssertionError("a resumed session must not ask for a set-up")

    pipeline, _ = prepare_session(_options(tmp_path), lambda row, gap: True, ask_setup=never)
    assert pipeline.resume == sid
    assert session_setup(pipeline) == SETUP


def test_a_new_session_after_a_crash_closes_the_old_one(tmp_path):
    db, sid = _crashed(tmp_path)
    pipeline, _ = prepare_session(_options(tmp_path), lambda row, gap: False,
                                  ask_setup=lambda: SETUP)
    assert pipeline.resume is None and pipeline.setup == setup_record(SETUP)
    assert database.session_row(db, sid).status is SessionStatus.INTERRUPTED


def test_no_setup_flag():
    assert build_parser().parse_args(["--no-setup"]).no_setup
    assert not build_parser().parse_args([]).no_setup
    assert GuiOptions(None, None, None, 10.0).setup   # type: ignore[arg-type]
