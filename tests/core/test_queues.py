import threading

from monitor.core.queues import BoundedQueue


def test_overflow_is_counted_not_silent():
    q = BoundedQueue(3, "test")
    assert all(q.put(i) for i in range(3))
    assert q.put(99) is False
    assert q.put(100) is False
    assert q.take_dropped() == 2
    assert q.take_dropped() == 0
    assert q.dropped_total == 2
    assert q.drain() == [0, 1, 2]


def test_blocking_queue_holds_the_producer_back_and_loses_nothing():
    q = BoundedQueue(10, "test", block_when_full=True)
    n = 5000
    producer = threading.Thread(target=lambda: [q.put(i) for i in range(n)])
    producer.start()
    got = []
    while len(got) < n:
        item = q.get(timeout=1.0)
        assert item is not None
        got.append(item)
    producer.join()
    assert got == list(range(n))
    assert q.dropped_total == 0


def test_get_times_out_with_none():
    assert BoundedQueue(1, "t").get(timeout=0.01) is None


def test_put_reliably_waits_for_room():
    q = BoundedQueue(1, "t")
    q.put("a")
    t = threading.Thread(target=q.put_reliably, args=("end",))
    t.start()
    assert q.get(timeout=1) == "a"
    t.join(timeout=2)
    assert q.get(timeout=1) == "end"
    assert q.dropped_total == 0
