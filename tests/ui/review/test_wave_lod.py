"""Levels of detail of a long wave (pure numpy)."""

from __future__ import annotations

import numpy as np

from monitor.ui.review.wave_lod import FACTOR, MinMaxPyramid


def _wave(n=200_000):
    x = np.arange(n) / 100.0
    y = np.sin(x * 7.5).astype(np.float32)
    y[1000] = 5.0            # a spike an envelope must keep
    y[150_000] = np.nan      # a gap it must keep too
    return x, y


def test_levels_keep_every_extreme_and_every_gap():
    x, y = _wave()
    lod = MinMaxPyramid(x, y)
    assert lod.blocks == [1, FACTOR, FACTOR ** 2, FACTOR ** 3]   # down to 1,000 blocks
    for level in range(1, len(lod.blocks)):
        vx, vy, used = lod.view(x[0], x[-1], len(x) / lod.blocks[level])
        assert used == level
        assert np.nanmax(vy) == 5.0
        assert np.nanmin(vy) == np.nanmin(y)
        gap = np.isnan(vy)
        assert gap.any()
        assert vx[gap].min() <= x[150_000] <= vx[gap].max() + lod.blocks[level] / 100.0


def test_view_picks_one_block_per_pixel_or_the_samples():
    x, y = _wave()
    lod = MinMaxPyramid(x, y)
    vx, vy, level = lod.view(x[0], x[-1], 1000)      # 200 samples a pixel
    assert lod.blocks[level] <= 200 < lod.blocks[level] * FACTOR
    assert 2 * 1000 <= len(vy) <= 2 * 1000 * FACTOR + 4
    vx, vy, level = lod.view(x[5000], x[5300], 1000)  # under one sample a pixel
    assert level == 0
    assert np.array_equal(vx, x[4999:5302]) and np.array_equal(vy, y[4999:5302])


def test_short_wave_has_only_its_samples():
    lod = MinMaxPyramid(np.arange(100.0), np.zeros(100))
    assert lod.blocks == [1]
    assert lod.view(0.0, 99.0, 10)[2] == 0
