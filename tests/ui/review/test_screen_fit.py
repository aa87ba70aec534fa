"""At 1280x800 and 1920x1080 the review, course and browser windows fit and cut no text.

Each size is a screen of its own: a fresh process on the offscreen platform
given that screen (:mod:`tests.ui.review.screen_fit`), with the shared
database of recorded sessions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.ui.review.conftest import REPO

SIZES = [(1280, 800), (1920, 1080)]


@pytest.fixture(scope="module", params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def facts(request, review_db, tmp_path_factory) -> dict[str, dict]:
    width, height = request.param
    config = tmp_path_factory.mktemp("screen") / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "test", "x": 0, "y": 0, "width": width, "height": height,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    done = subprocess.run([sys.executable, "-m", "tests.ui.review.screen_fit",
                           str(review_db.path), str(review_db.ids["surge"]), "AB-0012"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
                          check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for window in out.values():
        assert window["area"] == [0, 0, width, height]   # the screen asked for
    return out


def _inside(frame: list[int], area: list[int]) -> bool:
    x, y, w, h = frame
    ax, ay, aw, ah = area
    return x >= ax and y >= ay and x + w <= ax + aw and y + h <= ay + ah


@pytest.mark.parametrize("window", ["review", "course", "browser"])
def test_window_fits_the_screen(facts, window):
    f = facts[window]
    assert _inside(f["frame"], f["area"]), f
    if window == "review":   # and uses it: not a small window on a large screen
        assert f["frame"][2] >= 0.9 * min(f["area"][2], 1800)


@pytest.mark.parametrize(("window", "table"), [("review", "summary"), ("review", "alarms"),
                                               ("review", "events"), ("course", "table"),
                                               ("browser", "table")])
def test_no_column_title_or_cell_is_cut(facts, window, table):
    cuts = facts[window]["tables"][table]
    assert cuts["cut_headers"] == [], cuts
    assert cuts["cut_cells"] == [], cuts
    assert cuts["scroll"] == 0, cuts                  # nothing hidden off to the side
