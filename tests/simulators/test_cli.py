"""``infusion-sim`` and ``python -m simulators``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simulators import scenario as scenario_module
from simulators.cli import main
from simulators.scenario import list_scenarios


def test_list_prints_one_aligned_line_per_scenario(capsys):
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    expected = list_scenarios()
    assert len(lines) == len(expected) == 8
    column = max(len(name) for name, _ in expected) + 2
    for line, (name, description) in zip(lines, expected, strict=True):
        assert line[:column].rstrip() == name
        assert line[column:] == description
    assert lines[0].startswith("desaturation ")
    assert any(line.startswith("typical ") for line in lines)
    assert err == ""


def test_unknown_subcommand_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["bogus"])
    assert info.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


def test_missing_subcommand_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage: infusion-sim" in capsys.readouterr().err


def test_run_is_not_offered_yet(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "typical"])
    assert info.value.code == 2


def test_broken_scenario_file_exits_2_naming_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "good.toml").write_text('description = "fine"\n', encoding="utf-8")
    (tmp_path / "broken.toml").write_text('description = "x"\n[baseline]\nhr = \n',
                                          encoding="utf-8")
    monkeypatch.setattr(scenario_module, "SCENARIO_DIR", tmp_path)
    assert main(["list"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "broken.toml, line 3" in err
    assert err.startswith("infusion-sim: error: ")


def test_python_dash_m_simulators_lists_scenarios():
    done = subprocess.run([sys.executable, "-m", "simulators", "list"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == \
        [name for name, _ in list_scenarios()]
