"""``infusion-sim run`` as two devices at once: one patient, two ptys, independent faults.

The devices' bytes are read from real pseudo-terminals with pyserial and decoded
with the app's own codecs (:func:`monitor.devices.protocols.codec_class`), as
the monitor would.
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import serial

from monitor.core.reading import Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.protocols import codec_class
from simulators import run as sim_run
from simulators.cli import _build_parser, _device_namespaces, main
from simulators.encoders import encoder_class
from simulators.engine import ScenarioEngine
from simulators.scenario import load_scenario, parse_scenario

SPEED = 10.0
SEED = 5
TIMEOUT_S = 30.0


def wait_for(condition: Callable[[], bool], timeout: float = TIMEOUT_S,
             poll: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        if poll is not None:
            poll()
        time.sleep(0.01)


class PtyReader:
    """The host end of one device: pyserial on the pty, the real codec, what it decoded."""

    def __init__(self, path: str, protocol: str) -> None:
        self.path = path
        self.codec = codec_class(protocol)(**({"interval": 1} if protocol == "datex-s5"
                                              else {}))
        self.items: list[tuple[float, object]] = []     # (arrival time, item)
        self.closed_at: float | None = None
        self.ser = serial.Serial(path, timeout=0)
        request = self.codec.open_requests()
        if request:
            self.ser.write(request)

    def poll(self) -> None:
        if self.closed_at is not None:
            return
        try:
            data = self.ser.read(4096)
        except (serial.SerialException, OSError):     # the cable pulled: the pty is gone
            self.closed_at = time.time()
            self.ser.close()
            return
        if data:
            t = time.time()
            self.items += [(t, item) for item in self.codec.feed(data, t)]

    def readings(self, vital: Vital) -> list[tuple[float, Reading]]:
        return [(t, r) for t, r in self.items
                if isinstance(r, Reading) and r.vital is vital and r.valid]

    def close(self) -> None:
        if self.closed_at is None:
            self.ser.close()


class Rig:
    """Devices on ptys played by :func:`sim_run.run_devices` in a thread."""

    def __init__(self, protocols: list[str], faults: list[sim_run.Faults] | None = None, *,
                 scenario: str = "typical", duration_s: float = 40.0,
                 links: list[Path | None] | None = None,
                 control: sim_run.ControlChannel | None = None) -> None:
        self.out = io.StringIO()
        self.protocols = protocols
        faults = faults or [sim_run.Faults() for _ in protocols]
        links = links or [None] * len(protocols)
        self.devices = []
        for index, protocol in enumerate(protocols):
            label = f"{index + 1} {protocol}"
            encoder = encoder_class(protocol)(
                sim_run.device_rng(SEED, index, sim_run.ENCODER_STREAM))
            port = sim_run.PtyPort(self.out, links[index], label=label)
            self.devices.append(sim_run.Device(encoder, port, faults[index], label=label))
        self.readers = [PtyReader(self.pty_of(i + 1), p) for i, p in enumerate(protocols)]
        self.stop = threading.Event()
        self.counts: list[dict[str, int]] = []
        self.thread = threading.Thread(target=self._run, args=(load_scenario(scenario),
                                                               duration_s, control))
        self.thread.start()
        wait_for(lambda: "START " in self.out.getvalue())
        self.start = float(self.lines("START")[0][1])

    def _run(self, scenario, duration_s, control) -> None:
        self.counts = sim_run.run_devices(scenario, self.devices, speed=SPEED, seed=SEED,
                                          duration_s=duration_s, should_stop=self.stop,
                                          control=control, announce=self.out)

    def lines(self, word: str) -> list[list[str]]:
        return [line.split() for line in self.out.getvalue().splitlines()
                if line.split()[:1] == [word]]

    def pty_of(self, number: int) -> str:
        """The current pty of device ``number`` (its latest ``PTY`` line)."""
        return [words[3] for words in self.lines("PTY") if words[1] == str(number)][-1]

    def session_s(self, t: float) -> float:
        return (t - self.start) * SPEED

    def poll(self) -> None:
        for reader in self.readers:
            reader.poll()

    def until(self, session_s: float) -> None:
        wait_for(lambda: time.time() >= self.start + session_s / SPEED, poll=self.poll)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(TIMEOUT_S)
        assert not self.thread.is_alive()
        for reader in self.readers:
            reader.close()


@pytest.fixture
def rigs():
    made: list[Rig] = []
    yield made
    for rig in made:
        rig.stop.set()
        rig.thread.join(TIMEOUT_S)
        for reader in rig.readers:
            reader.close()


def _expected(vital: Vital, scenario: str = "typical") -> dict[int, float]:
    """The scenario's value of ``vital`` at each second (the engine with the run's seed)."""
    engine = ScenarioEngine(load_scenario(scenario), SEED, 0.0, run_s=60.0)
    return {round(item.t): item.value for item in engine.generate(60.0)
            if isinstance(item, Reading) and item.vital is vital and item.valid}


def _check_scenario_values(rig: Rig, reader: PtyReader, vital: Vital) -> int:
    """Every decoded value is the scenario's at one of the seconds just before it arrived."""
    expected = _expected(vital)
    got = reader.readings(vital)
    for t, reading in got:
        second = rig.session_s(t)
        window = range(math.floor(second) - 3, math.floor(second) + 2)
        candidates = {expected[k] for k in window if k in expected}
        assert reading.value in candidates, (vital, second, reading.value, candidates)
    return len(got)


def test_an_oximeter_and_a_monitor_play_the_same_patient(rigs):
    rig = Rig(["masimo-ascii", "datex-s5"], duration_s=25.0)
    rigs.append(rig)
    assert [words[:3] for words in rig.lines("PTY")] == [
        ["PTY", "1", "masimo-ascii"], ["PTY", "2", "datex-s5"]]
    assert rig.pty_of(1) != rig.pty_of(2)
    rig.until(24.0)
    rig.finish()
    masimo, datex = rig.readers
    # Each device sends what its protocol carries, from the one patient.
    assert _check_scenario_values(rig, masimo, Vital.SPO2) >= 15
    assert _check_scenario_values(rig, masimo, Vital.PULSE_RATE) >= 15
    assert _check_scenario_values(rig, datex, Vital.SPO2) >= 15
    assert _check_scenario_values(rig, datex, Vital.PULSE_RATE) >= 15
    assert _check_scenario_values(rig, datex, Vital.HR) >= 15
    assert not masimo.readings(Vital.HR)          # an oximeter has no ECG
    assert any(isinstance(item, WaveChunk) for _, item in datex.items)
    # The two SpO2 series agree: at about the same moment, the same value (the Datex
    # sends 0.01 % steps of the integer the scenario shows; Masimo the integer).
    spo2_m, spo2_d = masimo.readings(Vital.SPO2), datex.readings(Vital.SPO2)
    times_d = np.array([t for t, _ in spo2_d])
    pairs = same = 0
    for t, reading in spo2_m:
        k = int(np.argmin(np.abs(times_d - t)))
        if abs(times_d[k] - t) * SPEED < 0.5:
            pairs += 1
            same += abs(spo2_d[k][1].value - reading.value) < 0.01 + 1e-9
    assert pairs >= 10
    assert same >= 0.7 * pairs, (same, pairs)
    assert all(counts["frames"] > 0 for counts in rig.counts)


def test_unplugging_device_1_leaves_device_2_running(rigs):
    faults = [sim_run.Faults(disconnect_at=8.0, reconnect_after=10.0), sim_run.Faults()]
    rig = Rig(["masimo-ascii", "datex-s5"], faults, duration_s=30.0)
    rigs.append(rig)
    masimo, datex = rig.readers
    wait_for(lambda: masimo.closed_at is not None, poll=rig.poll)
    assert 7.0 <= rig.session_s(masimo.closed_at) <= 10.0
    # Device 1 comes back on a new pty at 18 s; the monitor keeps sending all along.
    wait_for(lambda: len(rig.lines("PTY")) == 3, poll=rig.poll)
    assert rig.lines("PTY")[2][:3] == ["PTY", "1", "masimo-ascii"]
    again = PtyReader(rig.pty_of(1), "masimo-ascii")
    rig.readers.append(again)
    rig.until(28.0)
    rig.finish()
    arrivals = [rig.session_s(t) for t, _ in datex.readings(Vital.SPO2)]
    during = [s for s in arrivals if 9.0 <= s <= 17.0]
    assert len(during) >= 6, arrivals                    # one record a second, unbroken
    assert np.max(np.diff(arrivals)) < 2.5
    assert datex.closed_at is None
    assert [rig.session_s(t) for t, _ in masimo.readings(Vital.SPO2)][-1] < 9.0
    assert min(rig.session_s(t) for t, _ in again.readings(Vital.SPO2)) >= 17.5
    assert len(again.readings(Vital.SPO2)) >= 5


def _counting_run(protocols: list[str], faults: list[sim_run.Faults],
                  seed: int = SEED) -> tuple[list[bytes], list[dict[str, int]]]:
    class CountingPort(sim_run.Port):
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, data: bytes) -> int:
            self.data += data
            return len(data)

    scenario = parse_scenario('description = "short"\n[session]\nbaseline_min = 1\n'
                              'infusion_min = 1\nrecovery_min = 1\n', "short")
    devices = [sim_run.Device(encoder_class(p)(sim_run.device_rng(seed, i,
                                                                  sim_run.ENCODER_STREAM)),
                              CountingPort(), f)
               for i, (p, f) in enumerate(zip(protocols, faults, strict=True))]
    counts = sim_run.run_devices(scenario, devices, speed=100.0, seed=seed, duration_s=20.0)
    return [bytes(d.port.data) for d in devices], counts


def _faulted(index: int, faults: sim_run.Faults, frames: list[bytes]) -> tuple[bytes, dict]:
    """What device ``index`` sends of ``frames`` with ``faults``, from its seeded stream."""
    class Capture(sim_run.Port):
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, data: bytes) -> int:
            self.data += data
            return len(data)

    port = Capture()
    counts = {"frames": 0, "dropped": 0, "garbage": 0, "corrupted": 0, "duplicated": 0,
              "bytes": 0}
    sim_run._deliver(frames, encoder_class("nonin-2")(np.random.default_rng(0)), port, faults,
                     sim_run.device_rng(SEED, index, sim_run.FAULT_STREAM), counts)
    return bytes(port.data), counts


def test_each_device_has_its_own_reproducible_faults():
    lossy = sim_run.Faults(drop=0.3, garbage=0.1, duplicate=0.1)
    frames = [bytes([1, i % 256, 2, 3, 4]) for i in range(1500)]
    # Exactly reproducible from the seed, device by device; independent streams.
    first, counts = _faulted(0, lossy, frames)
    assert _faulted(0, lossy, frames) == (first, counts)
    second, counts_2 = _faulted(1, lossy, frames)
    assert second != first and counts_2 != counts
    assert 0.25 < counts["dropped"] / counts["frames"] < 0.35
    # Device 0 of several draws from the stream a device alone has (index 0 is the
    # single-device generator), so a device has the faults it would have alone.
    alone = np.random.default_rng([SEED, sim_run.FAULT_STREAM]).random(5)
    assert list(sim_run.device_rng(SEED, 0, sim_run.FAULT_STREAM).random(5)) == list(alone)
    # Played through run_devices: each device its own faults, a clean one none.
    both, played = _counting_run(["nonin-2", "nonin-2"], [lossy, sim_run.Faults()])
    assert played[0]["frames"] > 1000 and 0.25 < played[0]["dropped"] / played[0]["frames"] < 0.35
    assert played[1]["dropped"] == played[1]["garbage"] == played[1]["duplicated"] == 0
    assert played[1]["frames"] == played[0]["frames"]

def test_the_control_fifo_unplugs_and_plugs_one_device(tmp_path, rigs):
    fifo = tmp_path / "sim.ctl"
    control = sim_run.ControlChannel(str(fifo))
    assert fifo.is_fifo()
    link = tmp_path / "masimo"
    rig = Rig(["masimo-ascii", "datex-s5"], duration_s=60.0, links=[link, None],
              control=control)
    rigs.append(rig)
    masimo, datex = rig.readers
    assert link.resolve() == Path(rig.pty_of(1))
    rig.until(4.0)
    assert masimo.readings(Vital.SPO2)
    with open(fifo, "w") as writer:                 # a writer that comes and goes
        writer.write("# a comment\n\nunplug 1\n")
    wait_for(lambda: masimo.closed_at is not None, poll=rig.poll)
    assert rig.lines("UNPLUGGED") == [["UNPLUGGED", "1", "masimo-ascii"]]
    assert not link.exists()
    unplugged_at = rig.session_s(masimo.closed_at)
    rig.until(unplugged_at + 8.0)
    assert len(rig.lines("PTY")) == 2                # still out
    with open(fifo, "w") as writer:
        writer.write("plug 1\n")
    wait_for(lambda: len(rig.lines("PTY")) == 3, poll=rig.poll)
    assert rig.lines("PLUGGED") == [["PLUGGED", "1", "masimo-ascii"]]
    text = rig.out.getvalue()
    assert text.index("PLUGGED 1") < text.rindex("PTY 1 masimo-ascii")
    assert link.resolve() == Path(rig.pty_of(1))     # the link follows the new pty
    again = PtyReader(str(link), "masimo-ascii")
    rig.readers.append(again)
    plugged_at = rig.session_s(time.time())
    wait_for(lambda: len(again.readings(Vital.SPO2)) >= 3, poll=rig.poll)
    rig.finish()
    control.close()
    assert not fifo.exists()                         # made by the channel, removed by it
    # The monitor went on while the oximeter was out.
    arrivals = [rig.session_s(t) for t, _ in datex.readings(Vital.SPO2)]
    assert len([s for s in arrivals if unplugged_at + 1 <= s <= plugged_at - 1]) >= 5
    assert np.max(np.diff(arrivals)) < 2.5
    assert datex.closed_at is None


def test_control_commands_name_a_device_or_all():
    devices = [sim_run.Device(encoder_class(p)(np.random.default_rng(0)), sim_run.Port(),
                              label=f"{i + 1} {p}")
               for i, p in enumerate(["masimo-ascii", "datex-s5"])]
    out, err = io.StringIO(), io.StringIO()
    assert sim_run.apply_command("unplug 2", devices, out, err)
    assert [d.unplugged for d in devices] == [False, True]
    assert sim_run.apply_command("UNPLUG", devices, out, err)
    assert [d.unplugged for d in devices] == [True, True]
    assert sim_run.apply_command("plug 1", devices, out, err)
    assert [d.unplugged for d in devices] == [False, True]
    assert out.getvalue().splitlines() == [
        "UNPLUGGED 2 datex-s5", "UNPLUGGED 1 masimo-ascii", "UNPLUGGED 2 datex-s5",
        "PLUGGED 1 masimo-ascii"]
    for bad in ("unplug 3", "unplug 0", "pull 1", "plug one", "unplug 1 2"):
        assert not sim_run.apply_command(bad, devices, out, err)
    assert err.getvalue().count("expected 'unplug N' or 'plug N' (N: 1 to 2") == 5
    assert [d.unplugged for d in devices] == [False, True]
    alone = [sim_run.Device(devices[0].encoder, sim_run.Port())]
    out = io.StringIO()
    sim_run.apply_command("unplug 1", alone, out, err)
    assert out.getvalue() == "UNPLUGGED\n"


def test_control_refuses_a_path_that_is_not_a_fifo(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("unplug 1\n")
    with pytest.raises(ValueError, match="not a FIFO"):
        sim_run.ControlChannel(str(plain))


def _devices_of(*argv: str):
    args = _build_parser().parse_args(["run", "typical", *argv])
    return args, _device_namespaces(args)


def test_options_apply_to_the_device_they_follow():
    args, (one, two) = _devices_of(
        "--drop", "0.1", "--protocol", "masimo-ascii", "--pty", "--link", "/tmp/a",
        "--sensor-off-at", "20", "--speed", "5", "--protocol", "datex-s5", "--pty",
        "--disconnect-at", "30", "--reconnect-after", "12", "--seed", "9")
    assert (one.protocol, one.pty, one.drop, one.link, one.sensor_off_at) == \
        ("masimo-ascii", True, 0.1, Path("/tmp/a"), 20.0)
    assert (one.disconnect_at, one.reconnect_after) == (None, 5.0)
    assert (two.protocol, two.pty, two.drop, two.link, two.sensor_off_at) == \
        ("datex-s5", True, 0.0, None, None)
    assert (two.disconnect_at, two.reconnect_after) == (30.0, 12.0)
    assert (args.speed, args.seed, args.duration) == (5.0, 9, None)


def test_a_single_device_takes_options_before_and_after_its_protocol():
    _, (only,) = _devices_of("--pty", "--drop", "0.2", "--protocol", "nonin-2",
                             "--corrupt", "0.3")
    assert (only.protocol, only.pty, only.drop, only.corrupt) == ("nonin-2", True, 0.2, 0.3)
    assert (only.port, only.udp, only.mllp, only.stdout) == (None, None, None, False)


@pytest.mark.parametrize(("argv", "message"), [
    (["--protocol", "masimo-ascii", "--pty", "--protocol", "datex-s5"],
     "device 2 (datex-s5): one of the arguments --pty --port --udp --mllp --stdout is "
     "required"),
    (["--protocol", "masimo-ascii", "--pty", "--port", "/dev/null"],
     "argument --port: not allowed with argument --pty"),
])
def test_each_device_needs_one_output(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "typical", *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--protocol", "masimo-ascii", "--stdout", "--protocol", "datex-s5", "--pty"],
     "device 1 (masimo-ascii): --stdout is for a single device"),
    (["--protocol", "masimo-ascii", "--port", "/dev/ttyS7", "--protocol", "datex-s5",
      "--port", "/dev/ttyS7"], "device 2 (datex-s5): --port /dev/ttyS7 is device 1's"),
    (["--protocol", "masimo-ascii", "--pty", "--link", "/tmp/x", "--protocol", "nonin-2",
      "--pty", "--link", "/tmp/x"], "device 2 (nonin-2): --link /tmp/x is device 1's"),
    (["--protocol", "masimo-ascii", "--pty", "--protocol", "datex", "--pty"],
     "device 2 (datex): unknown protocol 'datex'"),
    (["--protocol", "masimo-ascii", "--pty", "--protocol", "hl7-pcd01", "--pty"],
     "device 2 (hl7-pcd01): hl7-pcd01 travels over TCP"),
    (["--protocol", "masimo-ascii", "--pty", "--bed", "X^Y^Z", "--protocol", "hl7-pcd01",
      "--mllp", "127.0.0.1:2575"], "device 1 (masimo-ascii): --bed, --mindray-codes"),
])
def test_bad_device_sets_are_refused_naming_the_device(argv, message, capsys):
    assert main(["run", "typical", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("infusion-sim: error: ") and message in err, err


def test_single_device_errors_name_no_device(capsys):
    assert main(["run", "typical", "--protocol", "datex-s5", "--udp", "0"]) == 2
    assert capsys.readouterr().err == ("infusion-sim: error: datex-s5 is a serial protocol: "
                                       "use --pty, --port or --stdout\n")
