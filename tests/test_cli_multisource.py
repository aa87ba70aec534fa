"""The command line with several sources: grouping of settings, refusals, the chair file."""

from __future__ import annotations

import json
import os

import pytest

from monitor import cli
from monitor.acquisition.chair import ChairConfig, SourceEntry, save_chair_config
from monitor.acquisition.sources import make_drivers


@pytest.fixture
def ptys():
    opened = [os.openpty() for _ in range(2)]
    yield [os.ttyname(slave) for _, slave in opened]
    for master, slave in opened:
        os.close(master)
        os.close(slave)


def _entries(*argv: str) -> list[SourceEntry]:
    args = cli.build_parser().parse_args(["run", "--headless", *argv])
    entries, before = cli.source_entries(args)
    return entries or [cli.entry_of(before)]


def test_each_setting_belongs_to_the_source_it_follows():
    entries = _entries("--protocol", "masimo-ascii", "--source", "serial:/dev/a",
                       "--baud", "19200", "--name", "Finger",
                       "--source", "serial:/dev/b", "--protocol", "datex-s5",
                       "--parity", "E", "--stopbits", "2", "--flow", "rtscts",
                       "--source", "hl7:127.0.0.1:2575", "--bed", "12",
                       "--hl7-code-map", "a.toml", "--hl7-code-map", "b.toml")
    assert [(e.source, e.protocol, e.name, e.baud) for e in entries] == [
        ("serial:/dev/a", "masimo-ascii", "Finger", 19200),
        ("serial:/dev/b", "datex-s5", "", None),
        ("hl7:127.0.0.1:2575", None, "", None)]
    assert (entries[1].parity, entries[1].stopbits, entries[1].flow) == ("E", 2.0, "rtscts")
    assert entries[2].bed == "12" and [p.name for p in entries[2].hl7_code_map] == ["a.toml",
                                                                                    "b.toml"]


def test_settings_with_no_source_keep_todays_default_source():
    assert _entries("--protocol", "nonin-2") == [SourceEntry("sim:typical", "nonin-2")]
    assert _entries() == [SourceEntry("sim:typical")]


def test_a_setting_given_twice_for_one_source_is_refused(capsys):
    for argv in (["--source", "serial:/dev/a", "--protocol", "nonin-2", "--protocol", "text"],
                 ["--protocol", "nonin-2", "--source", "serial:/dev/a", "--protocol", "text"],
                 ["--source", "sim:typical", "--name", "A", "--source", "sim:x", "--name", "B",
                  "--name", "C"]):
        with pytest.raises(SystemExit) as exc:
            cli.build_parser().parse_args(["run", "--headless", *argv])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "was given twice for" in err and "each --source takes each" in err, err


def test_names_come_from_the_entries_or_the_devices(ptys):
    drivers = make_drivers([SourceEntry(f"serial:{ptys[0]}", "masimo-ascii"),
                            SourceEntry(f"serial:{ptys[1]}", "masimo-ascii"),
                            SourceEntry("sim:typical", "datex-s5", "Monitor"),
                            SourceEntry("sim:typical")])
    assert [d.name for d in drivers] == ["Masimo", "Masimo 2", "Monitor", "Simulator"]


def test_bad_sources_are_each_named_and_nothing_starts(tmp_path, capsys, ptys):
    data = tmp_path / "d"
    code = cli.main(["run", "--headless", "--data-dir", str(data),
                     "--source", f"serial:{ptys[0]}", "--protocol", "masimo-ascii",
                     "--source", f"serial:{ptys[0]}", "--protocol", "datex-s5",
                     "--name", "Monitor",
                     "--source", "serial:/dev/ttyUSB-unplugged", "--protocol", "nonin-2",
                     "--source", "sim:typical", "--protocol", "datex"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"source 2 (Monitor): serial:{ptys[0]} is the port of source 1" in err
    assert ("source 3 (serial:/dev/ttyUSB-unplugged): port /dev/ttyUSB-unplugged does not "
            "exist (is the USB-serial adapter unplugged?") in err
    assert "source 4 (sim:typical): unknown protocol 'datex'; allowed: masimo-ascii" in err
    assert "give --start-valid-sources to start with the valid ones (Masimo)" in err
    assert not data.exists()


def test_a_source_that_cannot_be_built_is_named_too(tmp_path, capsys, ptys):
    code = cli.main(["run", "--headless", "--data-dir", str(tmp_path / "d"),
                     "--source", f"serial:{ptys[0]}", "--protocol", "masimo-ascii",
                     "--source", "hl7:127.0.0.1:2575"])
    assert code == 2
    assert "source 2 (hl7:127.0.0.1:2575): an hl7: source needs --bed KEY" in \
        capsys.readouterr().err


def test_speed_with_a_device_among_the_sources_is_refused(capsys, ptys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--headless", "--speed", "max", "--source", "sim:typical",
                  "--source", f"serial:{ptys[0]}", "--protocol", "nonin-2"])
    assert exc.value.code == 2
    assert "--speed applies to simulated and replayed sources only" in capsys.readouterr().err


def test_either_source_or_chair_config(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--headless", "--source", "sim:typical",
                  "--chair-config", str(tmp_path / "c.toml")])
    assert "either --source or --chair-config" in capsys.readouterr().err


def _run(capsys, *argv: str) -> tuple[int, list[dict], str]:
    code = cli.main(["run", "--headless", "--readings", "--speed", "max", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_start_valid_sources_starts_with_the_valid_ones_and_says_which_were_left_out(
        tmp_path, capsys):
    code, lines, err = _run(capsys, "--duration", "30", "--data-dir", str(tmp_path / "d"),
                            "--source", "sim:typical", "--protocol", "masimo-ascii",
                            "--source", "sim:desaturation", "--protocol", "datex",
                            "--name", "Monitor", "--start-valid-sources")
    assert code == 0, err
    assert "source 2 (Monitor): unknown protocol 'datex'; allowed:" in err
    assert "starting with Masimo only; left out: source 2 (Monitor)" in err
    readings = [x for x in lines if x["type"] == "reading"]
    assert readings and {x["vital"] for x in readings} >= {"spo2", "pulse_rate"}


def test_two_simulated_devices_at_max_speed_play_on_one_time_base(tmp_path, capsys):
    """Neither device runs ahead: no false NO DATA, no reading from the clock's past."""
    code, lines, err = _run(capsys, "--duration", "120", "--data-dir", str(tmp_path / "d"),
                            "--source", "sim:typical", "--protocol", "masimo-ascii",
                            "--source", "sim:typical", "--protocol", "datex-s5")
    assert code == 0, err
    technical = [x for x in lines if x["type"] == "technical" and x["active"]]
    assert technical == [], technical
    times = {"Masimo": [], "Datex S/5": []}
    for x in lines:
        if x["type"] == "reading":
            times[x["source"]].append(x["t"])
    start = lines[0]["start"] if lines[0]["type"] == "session" else lines[1]["start"]
    for name, ts in times.items():
        assert len(ts) > 100, name
        assert max(ts) - start > 110, name       # each played the whole two minutes
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        assert max(gaps) < 2.0, (name, max(gaps))
    selections = [(x["vital"], x["source"], x["reason"]) for x in lines
                  if x["type"] == "selection"]
    assert ("spo2", "Masimo", "start") in selections
    assert ("hr", "Datex S/5", "start") in selections
    assert not [s for s in selections if s[2] not in ("start", "ended")], selections


def test_start_valid_sources_with_none_valid_still_refuses(tmp_path, capsys):
    code = cli.main(["run", "--headless", "--data-dir", str(tmp_path / "d"),
                     "--source", "serial:/dev/ttyUSB-a", "--protocol", "nonin-2",
                     "--source", "serial:/dev/ttyUSB-b", "--protocol", "nonin-2",
                     "--start-valid-sources"])
    assert code == 2
    assert "not started: none of the 2 sources can be used" in capsys.readouterr().err


def test_the_chair_file_in_the_data_folder_gives_the_sources(tmp_path, capsys):
    data = tmp_path / "d"
    data.mkdir()
    save_chair_config(ChairConfig("Chair 1", (SourceEntry("sim:typical", "nonin-2",
                                                          "Finger"),)), data / "chair.toml")
    code, lines, err = _run(capsys, "--duration", "30", "--data-dir", str(data))
    assert code == 0, err
    session = next(x for x in lines if x["type"] == "session")
    assert session["source"].startswith("sim:typical")
    readings = [x for x in lines if x["type"] == "reading"]
    assert readings and {x["vital"] for x in readings} >= {"spo2", "pulse_rate"}
    assert "hr" not in {x["vital"] for x in readings}   # through the Nonin protocol


def test_a_named_chair_file_and_its_problems(tmp_path, capsys):
    path = tmp_path / "other.toml"
    path.write_text('[[source]]\nsource = "sim:typical"\nprotocol = "masimo-ascii"\n'
                    '[[source]]\nname = "Monitor"\nsource = "sim:typical"\n'
                    'protocol = "datex"\n')
    assert cli.main(["run", "--headless", "--chair-config", str(path),
                     "--data-dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "source 2 (Monitor): unknown protocol 'datex'" in err
    assert f"problem(s) with the sources in the chair configuration {path}" in err
    code, lines, err = _run(capsys, "--chair-config", str(path), "--start-valid-sources",
                            "--duration", "20", "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    assert "starting with Masimo only; left out: source 2 (Monitor)" in err
    assert any(x["type"] == "reading" for x in lines)


def test_an_unreadable_chair_file_refuses_to_start(tmp_path, capsys):
    path = tmp_path / "chair.toml"
    path.write_text("[[sources]]\n")
    assert cli.main(["run", "--headless", "--chair-config", str(path)]) == 2
    assert "unknown key 'sources'; allowed: chair, source, priority" in capsys.readouterr().err
    empty = tmp_path / "empty.toml"
    empty.write_text("chair = 'Chair 2'\n")
    assert cli.main(["run", "--headless", "--chair-config", str(empty)]) == 2
    assert "names no source" in capsys.readouterr().err


def test_settings_without_source_conflict_with_a_chair_file(tmp_path, capsys):
    path = tmp_path / "chair.toml"
    save_chair_config(ChairConfig(None, (SourceEntry("sim:typical"),)), path)
    with pytest.raises(SystemExit):
        cli.main(["run", "--headless", "--chair-config", str(path), "--protocol", "nonin-2"])
    assert "--protocol belongs to a --source" in capsys.readouterr().err


def test_one_source_on_the_command_line_behaves_as_before(tmp_path, capsys):
    # a missing port is not refused at start: it is retried, as it always was
    code, _lines, err = _run(capsys, "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    assert cli.main(["run", "--headless", "--source", "sim:typical", "--protocol",
                     "datex"]) == 2
    assert "unknown protocol 'datex'; valid protocols:" in capsys.readouterr().err


def test_a_recorded_session_replays_with_its_recorded_names(tmp_path, capsys):
    data = tmp_path / "d"
    code, _, err = _run(capsys, "--duration", "20", "--data-dir", str(data),
                        "--source", "sim:typical", "--protocol", "masimo-ascii")
    assert code == 0, err
    drivers = make_drivers([SourceEntry("replay:1")], data_dir=data)
    assert [(d.name, d.protocol) for d in drivers] == [("Masimo", "masimo-ascii")]
    code, lines, err = _run(capsys, "--data-dir", str(data), "--source", "replay:1")
    assert code == 0, err
    assert {x["vital"] for x in lines if x["type"] == "reading"} >= {"spo2", "pulse_rate"}
