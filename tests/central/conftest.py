from __future__ import annotations

import pytest

from tests.central.broker import Broker


@pytest.fixture
def broker(tmp_path):
    """A running private Mosquitto on loopback (anonymous, no persistence)."""
    b = Broker(tmp_path).start()
    yield b
    b.stop()
