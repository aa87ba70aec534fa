"""The HL7 listener with the real ``hl7-pcd01`` codec over loopback TCP, and its source name.

The messages are written here from the IHE PCD-01 shape (MSH, PID, PV1, OBR,
OBX with MDC codes); the codec's decoding is tested in ``tests/codecs``. What
is tested here: the listener and the codec together give values, one ACK per
message on its own connection, other beds acknowledged and ignored, a huge
message discarded without holding it; and ``--source hl7:...`` with its
options, as the command line builds it.
"""

from __future__ import annotations

import socket
import threading

import pytest

from monitor import cli
from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.devices.base import SourceError
from monitor.devices.hl7_driver import Hl7Driver
from monitor.devices.registry import (
    Hl7Options,
    SerialOverrides,
    device_driver,
    parse_hl7_target,
    parse_source,
)
from tests.acquisition.test_hl7_listener import EB, SB, Rig, connect, refused_at_once


def oru(control_id: str, bed: str = "ICU^2^12", spo2: str = "97") -> bytes:
    return SB + (
        f"MSH|^~\\&|GW^0012345^EUI-64|ICU|CHAIR|CLINIC|20260101120000+0000||ORU^R01^ORU_R01|"
        f"{control_id}|P|2.6|||NE|AL\r"
        "PID|||PAT1^^^H^MR\r"
        f"PV1||I|{bed}\r"
        "OBR|1|A1|B1|182777000^monitoring of patient^SCT|||20260101120000+0000\r"
        f"OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|{spo2}|262688^MDC_DIM_PERCENT^MDC"
        "|||||R|||20260101120000+0000\r").encode() + EB


def msa(ack: bytes) -> tuple[str, str]:
    seg = next(s for s in ack.strip(SB + EB).split(b"\r") if s.startswith(b"MSA"))
    fields = seg.decode().split("|")
    return fields[1], fields[2]


def read_frames(sock: socket.socket, count: int) -> list[bytes]:
    buf = b""
    while buf.count(EB) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return [f + EB for f in buf.split(EB) if f]


@pytest.fixture
def listener():
    rigs: list[Rig] = []

    def build(bed: str | None = "12", **kw) -> Rig:
        rig = Rig(Hl7Driver("127.0.0.1", 0, bed=bed, **kw))
        rig.wait(lambda: rig.driver.local_address is not None, what="listening")
        rigs.append(rig)
        return rig

    yield build
    for r in rigs:
        r.close()


def test_values_come_and_each_message_is_acknowledged_on_its_own_connection(listener):
    r = listener()
    a, b = connect(r.port), connect(r.port)
    try:
        a.sendall(oru("a1", spo2="96")[:50])
        b.sendall(oru("b1", spo2="95"))
        a.sendall(oru("a1", spo2="96")[50:])
        assert [msa(x) for x in read_frames(b, 1)] == [("AA", "b1")]
        assert [msa(x) for x in read_frames(a, 1)] == [("AA", "a1")]
    finally:
        a.close()
        b.close()
    r.wait(lambda: len(r.of(Reading)) >= 2, what="two readings")
    values = sorted(x.value for x in r.of(Reading) if x.vital is Vital.SPO2)
    assert values == [95.0, 96.0]
    # Each message captured whole, whichever connection finished first.
    assert len(r.raw("out")) == 2 and sorted(r.raw("in")) == sorted([oru("b1", spo2="95"),
                                                                     oru("a1", spo2="96")])


def test_another_beds_messages_are_acknowledged_and_ignored(listener):
    r = listener(bed="7")
    with connect(r.port) as s:
        s.sendall(oru("x1") + oru("x2"))
        assert [msa(x)[0] for x in read_frames(s, 2)] == ["AA", "AA"]
    r.wait(lambda: "other beds" in r.driver.codec.link_state, what="the link state")
    assert not r.of(Reading)


@pytest.mark.slow
def test_a_huge_message_is_refused_without_being_held_and_the_next_one_is_taken(listener):
    r = listener()
    head = oru("big")[:-len(EB)]
    filler = b"OBX|2|ST|x||" + b"z" * (1 << 20) + b"\r"
    with connect(r.port) as s:
        s.settimeout(120)

        def send() -> None:
            s.sendall(head)
            for _ in range(100):
                s.sendall(filler)
            s.sendall(EB + oru("after"))

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        acks = read_frames(s, 2)
        sender.join(60)
    codes = [msa(x) for x in acks]
    assert codes[-1] == ("AA", "after")
    assert all(code in ("AR", "CR") for code, _ in codes[:-1])
    r.wait(lambda: oru("after") in r.raw("in"), what="the capture")
    assert max(len(x) for x in r.raw("in")) < 2 << 20


def test_the_source_name_and_its_options():
    assert parse_source("hl7:127.0.0.1:2575").scheme == "hl7"
    assert parse_hl7_target("2575") == (None, 2575)
    assert parse_hl7_target("10.1.2.5:2575") == ("10.1.2.5", 2575)
    assert parse_hl7_target("[::1]:2575") == ("::1", 2575)
    for bad in ("", "host:", ":2575", "0", "70000", "host:port"):
        with pytest.raises(SourceError, match="hl7:"):
            parse_hl7_target(bad)
    spec = parse_source("hl7:127.0.0.1:2575")
    with pytest.raises(SourceError, match="needs --bed KEY.*PV1-3"):
        device_driver(spec)
    with pytest.raises(SourceError, match="speaks hl7-pcd01.*not 'datex-s5'"):
        device_driver(spec, protocol="datex-s5", hl7=Hl7Options(bed="12"))
    with pytest.raises(SourceError, match="serial: sources only"):
        device_driver(spec, overrides=SerialOverrides(baudrate=9600), hl7=Hl7Options(bed="1"))
    with pytest.raises(SourceError, match="hl7: sources only"):
        device_driver(parse_source("serial:/dev/null"), protocol="datex-s5",
                      hl7=Hl7Options(bed="12"))
    with pytest.raises(SourceError, match="hl7:\\[HOST:\\]PORT"):
        device_driver(parse_source("serial:/dev/null"), protocol="hl7-pcd01")
    d = device_driver(spec, protocol="hl7-pcd01", hl7=Hl7Options(bed="any"))
    assert isinstance(d, Hl7Driver) and d.bed is None and d.protocol == "hl7-pcd01"
    d = device_driver(parse_source("hl7:2575"), hl7=Hl7Options(bed=" 12 ",
                                                                allow="127.0.0.1"))
    assert isinstance(d, Hl7Driver) and d.host == "127.0.0.1" and d.bed == "12"


def test_the_command_line_refuses_what_an_hl7_source_cannot_take(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--headless", "--source", "hl7:127.0.0.1:2575", "--bed", "1",
                  "--speed", "max"])
    assert exc.value.code == 2
    assert "--speed applies to simulated and replayed sources only" in capsys.readouterr().err
    assert cli.main(["run", "--headless", "--source", "hl7:127.0.0.1:2575"]) == 2
    assert "needs --bed KEY" in capsys.readouterr().err
    assert cli.main(["run", "--headless", "--source", "hl7:2575", "--bed", "1"]) == 2
    assert "does not say where to listen" in capsys.readouterr().err
    assert cli.main(["run", "--headless", "--source", "hl7:127.0.0.1:2575", "--bed", "1",
                     "--hl7-allow", "gateway"]) == 2
    assert "not an IP address" in capsys.readouterr().err
    assert cli.main(["run", "--headless", "--source", "sim:typical", "--bed", "1"]) == 2
    assert "hl7: sources only" in capsys.readouterr().err
    assert cli.main(["run", "--headless", "--source", "hl7:127.0.0.1:2575", "--bed", "1",
                     "--hl7-tls-cert", str(tmp_path / "none.pem"),
                     "--hl7-tls-key", str(tmp_path / "none.key")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_text("junk = [")
    assert cli.main(["run", "--headless", "--source", "hl7:127.0.0.1:2575", "--bed", "1",
                     "--hl7-code-map", str(tmp_path / "bad.toml")]) == 2
    assert "cannot read the HL7 code maps" in capsys.readouterr().err
    text = cli.build_parser().format_help()
    assert "hl7:[HOST:]PORT" in text and "--hl7-allow" in text and "PV1-3" in text


def test_an_allow_list_from_the_command_line_refuses_this_computer(listener):
    from monitor.devices.hl7_driver import parse_allow

    r = listener(allow=parse_allow("10.250.0.1"))
    assert refused_at_once(r.port)
    r.wait(lambda: r.driver.refused == 1, what="refused")
