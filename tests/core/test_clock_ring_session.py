import threading
import time

import numpy as np
import pytest

from monitor.core.clock import RealClock, SimClock, parse_speed
from monitor.core.freshness import Freshness
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.ringbuffer import RingBuffer
from monitor.core.session import Phase, SessionModel
from monitor.core.vitals import Vital


def test_max_speed_clock_moves_only_when_advanced():
    c = SimClock(1000.0, speed=None)
    stop = threading.Event()
    assert c.now() == 1000.0
    assert c.sleep_until(1060.0, stop) is False
    assert c.now() == 1060.0
    c.advance_to(1000.0)  # never backwards
    assert c.now() == 1060.0
    stop.set()
    assert c.sleep_until(1061.0, stop) is True


def test_a_max_speed_clock_paced_by_two_threads_keeps_them_in_step():
    """Two simulated devices at --speed max: neither runs ahead of the clock the other sees."""
    c = SimClock(0.0, speed=None)
    c.lockstep(2)
    stop = threading.Event()
    seen: dict[str, list[tuple[float, float]]] = {"fast": [], "slow": []}

    def pace(name: str, step: float, end: float) -> None:
        t = 0.0
        while t < end:
            t += step
            c.sleep_until(t, stop)
            seen[name].append((t, c.now()))
        c.leave()

    threads = [threading.Thread(target=pace, args=("fast", 0.1, 30.0)),
               threading.Thread(target=pace, args=("slow", 1.0, 10.0))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert not any(th.is_alive() for th in threads)
    # Each step returned once the clock had reached it, and never far past it while the
    # other device was still pacing: the clock is the earliest time either waits for.
    for name, steps in seen.items():
        assert all(now >= t - 1e-9 for t, now in steps), name
    assert all(now <= t + 1.0 + 1e-9 for t, now in seen["fast"] if t <= 10.0)
    # Once the slow device left, the fast one paces alone to its end.
    assert seen["fast"][-1][0] >= 30.0 - 1e-9 and c.now() >= 30.0 - 1e-9


def test_a_stop_releases_a_thread_waiting_for_the_other():
    c = SimClock(0.0, speed=None)
    c.lockstep(2)
    stop = threading.Event()
    result: list[bool] = []
    th = threading.Thread(target=lambda: result.append(c.sleep_until(5.0, stop)))
    th.start()
    time.sleep(0.1)
    assert not result and c.now() == 0.0     # waits for the other device
    stop.set()
    th.join(5)
    assert result == [True]


def test_scaled_clock_runs_faster_than_real_time():
    c = SimClock(0.0, speed=100.0)
    t0 = time.monotonic()
    assert c.sleep_until(5.0, threading.Event()) is False
    assert time.monotonic() - t0 < 1.0  # 5 session seconds at 100x = 50 ms
    assert c.now() >= 5.0
    with pytest.raises(RuntimeError):
        c.advance_to(10.0)


def test_real_clock_is_wall_time():
    assert abs(RealClock().now() - time.time()) < 0.5


@pytest.mark.parametrize("text,expected", [("max", None), ("MAX", None), ("60", 60.0),
                                           ("0.5", 0.5)])
def test_parse_speed(text, expected):
    assert parse_speed(text) == expected


@pytest.mark.parametrize("text", ["0", "-1", "fast", "nan", "inf"])
def test_parse_speed_rejects(text):
    with pytest.raises(ValueError, match="positive number or 'max'"):
        parse_speed(text)


def test_ring_buffer_wraps_and_views_are_contiguous():
    rb = RingBuffer(5)
    for i in range(7):
        rb.append(float(i), float(i * 10))
    t, v = rb.view()
    np.testing.assert_array_equal(t, [2, 3, 4, 5, 6])
    np.testing.assert_array_equal(v, [20, 30, 40, 50, 60])
    assert t.flags.c_contiguous and not t.flags.writeable
    assert rb.last() == (6.0, 60.0)
    assert len(rb) == 5 and rb.total_written == 7


def test_ring_buffer_extend_matches_append():
    a, b = RingBuffer(64), RingBuffer(64)
    rng = np.random.default_rng(1)
    t = np.arange(300, dtype=float)
    v = rng.normal(size=300)
    i = 0
    for n in rng.integers(1, 90, size=40):
        a.extend(t[i:i + n], v[i:i + n])
        for j in range(i, min(i + n, 300)):
            b.append(t[j], v[j])
        i = min(i + n, 300)
    for x, y in zip(a.view(), b.view(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_ring_buffer_extend_larger_than_capacity():
    rb = RingBuffer(4)
    rb.extend(np.arange(10.0), np.arange(10.0))
    assert list(rb.view()[1]) == [6, 7, 8, 9]


def test_session_phases_move_forward_only():
    m = SessionModel(1, 100.0)
    seen = []
    m.on_phase(lambda p, t: seen.append((p, t)))
    assert m.phase is Phase.BASELINE
    m.set_phase(Phase.INFUSION, 700.0)
    m.set_phase(Phase.RECOVERY, 3100.0)
    with pytest.raises(ValueError):
        m.set_phase(Phase.INFUSION, 3200.0)
    with pytest.raises(ValueError):
        m.set_phase(Phase.ENDED, 3000.0)
    m.set_phase(Phase.ENDED, 5500.0)
    assert seen == [(Phase.INFUSION, 700.0), (Phase.RECOVERY, 3100.0), (Phase.ENDED, 5500.0)]
    assert m.started(Phase.INFUSION) == 700.0
    assert m.spans[0].end == 700.0
    assert m.elapsed(160.0) == 60.0


def test_freshness_never_reports_a_stale_value_as_current():
    f = Freshness(stale_after=10.0)
    assert f.current(Vital.HR, 0.0) is None
    f.update(make_reading(Vital.HR, 72, 100.0))
    assert f.current(Vital.HR, 110.0).value == 72
    assert f.current(Vital.HR, 110.1) is None
    assert f.age(Vital.HR, 115.0) == 15.0
    f.update(Reading.invalid(Vital.HR, 111.0, Quality.SENSOR_OFF))
    assert f.current(Vital.HR, 111.0) is None
    assert f.last_valid(Vital.HR).value == 72
