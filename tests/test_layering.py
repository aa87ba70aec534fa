"""The Qt-free layers import and run with PySide6 and pyqtgraph unavailable."""

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_core_layers_work_without_qt(tmp_path):
    script = textwrap.dedent(f"""
        import importlib.abc, sys, json, io

        class NoQt(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):
                    raise ImportError(f'{{name}} is unavailable in this test')
                return None

        sys.meta_path.insert(0, NoQt())
        import monitor.core.vitals, monitor.core.reading, monitor.core.clock
        import monitor.core.ringbuffer, monitor.core.session, monitor.core.freshness
        import monitor.devices.registry, monitor.acquisition.sources, simulators.driver
        import monitor.acquisition.pipeline, monitor.acquisition.headless
        import monitor.storage.database, monitor.storage.recorder, monitor.storage.store
        import simulators.engine, simulators.scenario
        from monitor.cli import main
        out = io.StringIO()
        sys.stdout = out
        code = main(['run', '--headless', '--source', 'sim:typical', '--duration', '120',
                     '--speed', 'max', '--data-dir', {str(tmp_path)!r}, '--readings'])
        sys.stdout = sys.__stdout__
        lines = [json.loads(x) for x in out.getvalue().splitlines()]
        assert code == 0, code
        hr = [x for x in lines if x.get('vital') == 'hr']
        assert len(hr) == 120, len(hr)
        assert not any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules)
        print('QT-FREE-OK')
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "QT-FREE-OK" in proc.stdout


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    n = len(contracts["contracts"])
    assert n >= 3 and f"Contracts: {n} kept, 0 broken" in proc.stdout
