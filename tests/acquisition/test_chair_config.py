"""The chair configuration file: written, read back, and every bad entry named."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from monitor.acquisition.chair import (
    ChairConfig,
    ChairConfigError,
    SourceEntry,
    check_entries,
    default_chair_path,
    dump_chair_config,
    load_chair_config,
    save_chair_config,
    source_names,
)
from monitor.core.vitals import Vital


@pytest.fixture
def ptys():
    """Two real pseudo-terminals: ports that exist."""
    opened = [os.openpty() for _ in range(2)]
    yield [os.ttyname(slave) for _, slave in opened]
    for master, slave in opened:
        os.close(master)
        os.close(slave)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chair.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_saved_configuration_reads_back_the_same(tmp_path, ptys):
    config = ChairConfig(
        chair='Chair 3 "window"',
        sources=(
            SourceEntry(f"serial:{ptys[0]}", "masimo-ascii", "Masimo", baud=19200,
                        parity="E", stopbits=1.5, flow="rtscts"),
            SourceEntry(f"serial:{ptys[1]}", "intellivue-mib", "IntelliVue"),
            SourceEntry("hl7:127.0.0.1:2575", None, "HL7 \\ gateway", bed="12",
                        hl7_allow="10.1.2.0/24", hl7_tls_cert=Path("/etc/c.pem"),
                        hl7_tls_key=Path("/etc/c.key"),
                        hl7_code_map=(Path("/etc/a.toml"), Path("/etc/b.toml"))),
            SourceEntry("sim:typical", "datex-s5"),
        ),
        priority={Vital.SPO2: ("Masimo", "IntelliVue"), Vital.HR: ("IntelliVue", "Masimo")})
    path = save_chair_config(config, tmp_path / "chair.toml")
    loaded, problems = load_chair_config(path)
    assert problems == []
    assert loaded.sources == config.sources
    assert loaded.chair == config.chair
    assert dict(loaded.priority) == dict(config.priority)
    assert loaded.path == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["chair.toml"]   # no temporary left


def test_saving_replaces_the_old_file_whole(tmp_path):
    path = tmp_path / "chair.toml"
    path.write_text("chair = 'old'\n")
    save_chair_config(ChairConfig("new", (SourceEntry("sim:typical"),)), path)
    config, problems = load_chair_config(path)
    assert (config.chair, config.sources, problems) == ("new", (SourceEntry("sim:typical"),), [])


def test_the_written_text_is_plain_toml_with_only_what_is_set():
    text = dump_chair_config(ChairConfig(None, (SourceEntry("sim:typical", "nonin-2"),)))
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert body == ["[[source]]", 'source = "sim:typical"', 'protocol = "nonin-2"']


def test_saving_refuses_an_entry_that_would_not_read_back(tmp_path):
    with pytest.raises(ChairConfigError, match=r"source 1 \(sim:typical\): parity must be"):
        save_chair_config(ChairConfig(None, (SourceEntry("sim:typical", parity="X"),)),
                          tmp_path / "chair.toml")
    assert not (tmp_path / "chair.toml").exists()


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ChairConfigError, match="cannot write the chair configuration"):
        save_chair_config(ChairConfig(), tmp_path / "nowhere" / "chair.toml")


def test_priority_defaults_when_not_given(tmp_path, ptys):
    path = _write(tmp_path, f"""
[[source]]
source = "serial:{ptys[0]}"
protocol = "masimo-ascii"
[[source]]
source = "serial:{ptys[1]}"
protocol = "datex-s5"
""")
    config, problems = load_chair_config(path)
    assert problems == [] and config.priority == {} and config.chair is None
    # names from the protocols, as the pipeline gives them
    assert source_names(config.sources) == ["Masimo", "Datex S/5"]


def test_priority_names_default_names_and_repeats(tmp_path):
    path = _write(tmp_path, """
[[source]]
source = "sim:typical"
protocol = "masimo-ascii"
[[source]]
source = "sim:typical"
protocol = "datex-s5"
[[source]]
source = "sim:desaturation"
protocol = "masimo-ascii"
[priority]
spo2 = ["Masimo 2", "Datex S/5", "Masimo"]
""")
    config, problems = load_chair_config(path)
    assert problems == []
    assert config.priority == {Vital.SPO2: ("Masimo 2", "Datex S/5", "Masimo")}


@pytest.mark.parametrize(("text", "message"), [
    ("chair = \n", "is not valid TOML"),
    ("chairs = 'x'\n", "unknown key 'chairs'; allowed: chair, source, priority"),
    ("[sources]\nsource = 'sim:typical'\n", "unknown key 'sources'"),
    ("source = 'sim:typical'\n", "source must be a list of [[source]] tables"),
    ("chair = 3\n", "chair must be a non-empty string"),
    ("priority = 'spo2'\n", "priority must be a [priority] table"),
])
def test_a_file_that_is_no_chair_configuration_is_refused_whole(tmp_path, text, message):
    with pytest.raises(ChairConfigError) as exc:
        load_chair_config(_write(tmp_path, text))
    assert message in str(exc.value) and "chair.toml" in str(exc.value)


def test_a_missing_or_binary_file_is_refused(tmp_path):
    with pytest.raises(ChairConfigError, match="does not exist"):
        load_chair_config(tmp_path / "none.toml")
    path = tmp_path / "chair.toml"
    path.write_bytes(b"chair = '\xff\xfe'\n")
    with pytest.raises(ChairConfigError, match="not UTF-8|not valid TOML"):
        load_chair_config(path)


BAD_ENTRIES = [
    ('source = "sim:typical"\nbaudrate = 9600',
     ("source 2 (sim:typical): unknown key 'baudrate'; allowed: name, source, protocol, baud, "
     "parity, stopbits, flow, bed, hl7_allow, hl7_tls_cert, hl7_tls_key, hl7_code_map")),
    ('name = "Monitor"\nprotocol = "datex-s5"',
     "source 2 (Monitor): source is required"),
    ('name = "Monitor"\nsource = 5', "source 2 (Monitor): source must be a non-empty string"),
    ('name = "Monitor"\nsource = "sim:typical"\nprotocol = "datex"',
     ("source 2 (Monitor): unknown protocol 'datex'; allowed: masimo-ascii, datex-s5, nonin-2, "
     "text, intellivue-mib, intellivue-lan, hl7-pcd01")),
    ('source = "usb:/dev/ttyUSB0"',
     ("source 2 (usb:/dev/ttyUSB0): unknown source scheme 'usb'; valid schemes: sim, serial, "
     "lan, hl7, replay")),
    ('name = "Monitor"\nsource = "sim:typical"\nbaud = "fast"',
     "source 2 (Monitor): baud must be a whole baud rate from 50 to 4000000"),
    ('name = "Monitor"\nsource = "sim:typical"\nbaud = 10',
     "source 2 (Monitor): baud must be a whole baud rate"),
    ('name = "Monitor"\nsource = "sim:typical"\nparity = "X"',
     "source 2 (Monitor): parity must be one of N, E, O, not 'X'"),
    ('name = "Monitor"\nsource = "sim:typical"\nstopbits = 3',
     "source 2 (Monitor): stopbits must be 1, 1.5 or 2, not 3"),
    ('name = "Monitor"\nsource = "sim:typical"\nflow = "hardware"',
     "source 2 (Monitor): flow must be one of none, rtscts, xonxoff"),
    ('name = "Monitor"\nsource = "sim:typical"\nhl7_code_map = [1]',
     "source 2 (Monitor): hl7_code_map must be a file name or a list of file names"),
    ('name = ""\nsource = "sim:typical"', "source 2 (sim:typical): name must be a non-empty"),
    ('name = "Monitor"\nsource = "serial:/dev/ttyUSB-not-plugged-in"\nprotocol = "datex-s5"',
     ("source 2 (Monitor): port /dev/ttyUSB-not-plugged-in does not exist (is the USB-serial "
     "adapter unplugged?")),
    ('name = "Monitor"\nsource = "serial:/dev/ttyUSB-x"',
     "source 2 (Monitor): a serial source needs a protocol; allowed: masimo-ascii"),
    ('name = "Monitor"\nsource = "lan:10.0.0.1:99999"',
     "source 2 (Monitor): lan:10.0.0.1:99999: the port must be a number from 1 to 65535"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES)
def test_a_bad_entry_is_named_and_left_out_the_others_kept(tmp_path, entry, message):
    path = _write(tmp_path, f"""
chair = "Chair 3"
[[source]]
source = "sim:typical"
protocol = "masimo-ascii"
[[source]]
{entry}
""")
    config, problems = load_chair_config(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(message), problems[0]
    assert config.sources == (SourceEntry("sim:typical", "masimo-ascii"),)
    assert config.chair == "Chair 3"


def test_two_sources_on_one_port_the_later_is_refused(tmp_path, ptys):
    link = tmp_path / "by-id-masimo"
    link.symlink_to(ptys[0])
    path = _write(tmp_path, f"""
[[source]]
name = "Masimo"
source = "serial:{ptys[0]}"
protocol = "masimo-ascii"
[[source]]
name = "Monitor"
source = "serial:{link}"
protocol = "datex-s5"
[[source]]
source = "hl7:127.0.0.1:2575"
bed = "1"
[[source]]
name = "Gateway 2"
source = "hl7:0.0.0.0:2575"
bed = "2"
""")
    config, problems = load_chair_config(path)
    assert [e.name for e in config.sources] == ["Masimo", ""]
    assert problems == [
        (f"source 2 (Monitor): serial:{link} is the port of source 1 (Masimo) too; one port "
        "carries one device, give each device its own port"),
        ("source 4 (Gateway 2): hl7:0.0.0.0:2575 is the port of source 3 (hl7:127.0.0.1:2575) "
        "too; one port carries one device, give each device its own port")]


def test_the_same_device_twice_and_a_name_twice(tmp_path):
    path = _write(tmp_path, """
[[source]]
name = "Masimo"
source = "sim:typical"
protocol = "masimo-ascii"
[[source]]
name = "Oximeter"
source = "sim:typical"
protocol = "masimo-ascii"
[[source]]
name = "Masimo"
source = "sim:typical"
protocol = "datex-s5"
[[source]]
source = "lan:10.1.2.3"
[[source]]
source = "lan:10.1.2.3"
protocol = "intellivue-lan"
""")
    config, problems = load_chair_config(path)
    assert [(e.name, e.source) for e in config.sources] == [("Masimo", "sim:typical"),
                                                             ("", "lan:10.1.2.3")]
    assert problems == [
        ("source 2 (Oximeter): the same device as source 1 (Masimo) (sim:typical, "
        "masimo-ascii); a device is read once"),
        ("source 3 (Masimo): the name 'Masimo' is already that of source 1; each source needs "
        "its own name"),
        ("source 5 (lan:10.1.2.3): lan:10.1.2.3 is the port of source 4 (lan:10.1.2.3) too; "
        "one port carries one device, give each device its own port")]


def test_priority_problems_keep_the_default_order(tmp_path):
    path = _write(tmp_path, """
[[source]]
name = "Masimo"
source = "sim:typical"
protocol = "masimo-ascii"
[[source]]
name = "Monitor"
source = "sim:typical"
protocol = "datex-s5"
[priority]
spo2 = ["Masimoo", "Monitor"]
heartrate = ["Monitor"]
hr = "Monitor"
etco2 = ["Monitor", "Monitor"]
nibp_sys = ["Monitor", "Masimo"]
""")
    config, problems = load_chair_config(path)
    assert config.priority == {Vital.NIBP_SYS: ("Monitor", "Masimo")}
    assert len(config.sources) == 2
    assert problems[0] == ("priority: spo2 names 'Masimoo', not a source of this chair; the "
                           "sources are: Masimo, Monitor (the default order is used for spo2)")
    assert problems[1].startswith("priority: unknown vital 'heartrate'; allowed: hr, "
                                  "pulse_rate, spo2")
    assert problems[2].startswith("priority: hr must be a list of source names")
    assert problems[3] == ("priority: etco2 lists 'Monitor' more than once (the default "
                           "order is used for etco2)")


def test_a_source_left_out_leaves_the_priority_too(tmp_path):
    path = _write(tmp_path, """
[[source]]
name = "Masimo"
source = "serial:/dev/ttyUSB-unplugged"
protocol = "masimo-ascii"
[[source]]
name = "Monitor"
source = "sim:typical"
protocol = "datex-s5"
[priority]
spo2 = ["Masimo", "Monitor"]
pulse_rate = ["Masimo"]
""")
    config, problems = load_chair_config(path)
    assert [e.name for e in config.sources] == ["Monitor"]
    assert config.priority == {Vital.SPO2: ("Monitor",)}
    assert len(problems) == 1 and "adapter unplugged" in problems[0]


def test_unchecked_reading_keeps_an_unplugged_entry_for_the_dialog(tmp_path):
    path = _write(tmp_path, """
[[source]]
name = "Masimo"
source = "serial:/dev/ttyUSB-unplugged"
protocol = "masimo-ascii"
""")
    config, problems = load_chair_config(path, check=False)
    assert problems == [] and [e.name for e in config.sources] == ["Masimo"]


def test_check_entries_numbers_in_the_order_given(ptys):
    entries = [SourceEntry(f"serial:{ptys[0]}", "nonin-2", "Nonin"),
               SourceEntry("serial:/dev/ttyUSB-gone", "datex-s5", "Monitor"),
               SourceEntry(f"serial:{ptys[1]}", "datex-s5"),
               SourceEntry(f"serial:{ptys[1]}", "datex-s5")]
    valid, problems = check_entries(entries)
    assert valid == [entries[0], entries[2]]
    assert problems[0].startswith("source 2 (Monitor): port /dev/ttyUSB-gone does not exist")
    assert problems[1].startswith(f"source 4 (serial:{ptys[1]}): the same device as source 3")


def test_default_path_is_in_the_data_folder(tmp_path):
    assert default_chair_path(tmp_path) == tmp_path / "chair.toml"
    assert default_chair_path().name == "chair.toml"
