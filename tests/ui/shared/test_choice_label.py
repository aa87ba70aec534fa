"""ChoiceLabel: the longest wording that fits, never a cut one."""

from __future__ import annotations

from monitor.ui.shared.choice_label import ChoiceLabel

TEXTS = ["PT-0042 \u00b7 0.5 mg/kg \u00d7 72 kg = 36 mg over 40 min", "PT-0042 \u00b7 36 mg",
         "PT-0042"]


def test_the_longest_wording_that_fits_is_shown(qtbot):
    label = ChoiceLabel()
    qtbot.addWidget(label)
    fm = label.fontMetrics()
    for i, text in enumerate(TEXTS):
        label.resize(fm.horizontalAdvance(text) + 2, 20)
        label.set_texts(TEXTS)
        assert label.text() == TEXTS[i]
    assert label.toolTip() == TEXTS[0]
    label.resize(10, 20)   # nothing fits: the shortest all the same
    assert label.text() == TEXTS[-1]


def test_optional_figures_are_left_out_rather_than_cut(qtbot):
    label = ChoiceLabel(optional=True)
    qtbot.addWidget(label)
    label.show()   # a hidden widget gets its resize events only when shown
    qtbot.waitExposed(label)
    label.set_texts(["\u25bc25 \u25b250", "\u25bc25\u25b250"])
    label.resize(label.fontMetrics().horizontalAdvance("\u25bc25\u25b250") + 1, 20)
    assert label.text() == "\u25bc25\u25b250"
    label.resize(8, 20)
    assert label.text() == ""
    assert label.toolTip() == "\u25bc25 \u25b250"
