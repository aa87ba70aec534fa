"""Fixtures for the live-view tests: a max-speed clock, a real queue, a view factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from monitor.core.clock import SimClock
from monitor.core.queues import BoundedQueue
from monitor.ui.live.view import LiveView
from tests.ui.helpers import T0


@pytest.fixture
def clock() -> SimClock:
    """A clock that only moves when the test advances it."""
    return SimClock(T0, speed=None)


@pytest.fixture
def ui_queue() -> BoundedQueue:
    return BoundedQueue(100_000, "ui")


@pytest.fixture
def make_view(qtbot, clock, ui_queue) -> Iterator[Callable[..., LiveView]]:
    """Build ``LiveView``s on the fixture clock and queue; stops their timers at teardown."""
    views: list[LiveView] = []

    def factory(*, simulated: bool = True, queue: BoundedQueue | None = None,
                initials: str = "RN", **kwargs) -> LiveView:
        """``initials``: the nurse's, as typed in the events bar (every action needs them)."""
        view = LiveView(clock, ui_queue if queue is None else queue,
                        simulated=simulated, **kwargs)
        view.events_bar.initials_edit.setText(initials)
        qtbot.addWidget(view)
        views.append(view)
        return view

    yield factory
    for view in views:
        view.stop()
        assert not view.is_running()


@pytest.fixture
def view(make_view) -> LiveView:
    """A simulated-data live view, not shown, timer not started."""
    return make_view()


@pytest.fixture
def shown_view(qtbot, view) -> LiveView:
    """The live view shown at 1280x800 (the chair-side screen)."""
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    return view
