"""The chair window's session publishes too, with the patient as the clinic's pseudonym."""

from __future__ import annotations

import time

from monitor.acquisition.sources import make_driver
from monitor.app import GuiOptions, prepare_session, start_publisher
from monitor.central.listener import CentralConfig, CentralListener
from monitor.central.protocol import parse_broker_url
from monitor.central.publisher import PublisherConfig
from monitor.core.workflow.setup import SessionSetup
from monitor.devices.registry import parse_source
from monitor.export import pseudonym_key
from monitor.export.deidentification import pseudonym

SETUP = SessionSetup(patient_ref="PT-0042", weight_kg=72.0, dose_mg_per_kg=0.5,
                     clinician="Dr A", planned_infusion_min=40.0, course_number=2,
                     course_total=6)


def _session(broker, tmp_path, patient: str):
    events: list = []
    listener = CentralListener(CentralConfig(parse_broker_url(broker.url)), events.append)

    def published() -> bool:
        chair = listener.model.chairs.get("chair-7")
        return chair is not None and chair.state.get("session") is not None \
            and {"hr", "spo2"} <= set(chair.values)
    listener.start()
    driver = make_driver(parse_source("sim:typical"), protocol="datex-s5")
    opts = GuiOptions(driver, tmp_path / "d", 1.0, 10.0,
                      central=PublisherConfig(parse_broker_url(broker.url), "chair-7"),
                      central_patient=patient)
    publishers = []
    pipeline, clock = prepare_session(opts, lambda row, gap: False, ask_setup=lambda: SETUP,
                                      sink=lambda m: [p.offer(m) for p in publishers])
    from monitor.app import session_setup

    publisher = start_publisher(opts, pipeline, clock, session_setup(pipeline))
    publishers.append(publisher)
    pipeline.start()
    try:
        deadline = time.monotonic() + 20
        while not published() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert published(), events
        assert listener.model.chairs["chair-7"].online
        return listener.model.chairs["chair-7"], tmp_path / "d"
    finally:
        pipeline.stop()
        pipeline.join(15)
        publisher.stop()
        listener.stop()


def test_the_window_session_publishes_the_patient_as_the_clinic_pseudonym(broker, tmp_path):
    chair, data = _session(broker, tmp_path, "pseudonym")
    expected = pseudonym("PT-0042", pseudonym_key(data))
    assert chair.state["patient"] == expected and expected.startswith("P-")
    assert chair.state["phase"] == "baseline"
    assert set(chair.values) >= {"hr", "spo2"}            # numerics once a second


def test_the_clinic_may_send_the_reference_or_nothing(broker, tmp_path):
    chair, _ = _session(broker, tmp_path / "a", "reference")
    assert chair.state["patient"] == "PT-0042"
    chair, _ = _session(broker, tmp_path / "b", "none")
    assert chair.state["patient"] == ""
