import copy

from PySide6.QtCore import Qt
from ui_samples import SHEET_LAYOUT

from veerdesk.core.layout import Layout
from veerdesk.ui.layout_panel import LayoutPanel


def _layout(**depth):
    data = copy.deepcopy(SHEET_LAYOUT)
    data["depth"].update(depth)
    data["extra_key"] = {"kept": True}
    return Layout.from_dict(data)


def test_shows_and_collects_a_layout_exactly(qtbot):
    panel = LayoutPanel()
    qtbot.addWidget(panel)
    layout = _layout(ties=[[323.12, 7900.0], [2184.116666666667, 8477.06101]])
    with qtbot.assertNotEmitted(panel.layout_changed):
        panel.show_layout(layout)
    assert panel.ties.item(1, 0).text() == "2184.1167"  # short on screen...
    assert Layout.from_dict(panel.collect()) == layout  # ...exact underneath
    assert panel.collect()["extra_key"] == {"kept": True}
    assert "valid" in panel.validation_message()


def test_editing_a_cell_emits_a_valid_layout_or_names_the_problem(qtbot):
    panel = LayoutPanel()
    qtbot.addWidget(panel)
    panel.show_layout(_layout())
    with qtbot.waitSignal(panel.layout_changed) as signal:
        panel.tracks.item(0, 1).setText("215")
    assert signal.args[0].tracks[0].x1 == 215
    with qtbot.assertNotEmitted(panel.layout_changed):
        panel.tracks.item(1, 2).setText("logarithmic")
    assert "tracks[1].scale" in panel.validation_message()
    panel.tracks.item(1, 2).setText("log")
    with qtbot.assertNotEmitted(panel.layout_changed):
        panel.curves.item(0, 0).setText("7")
    assert "track '7' does not exist" in panel.validation_message()


def test_clicked_ties_are_sorted_and_replace_a_tie_on_the_same_row(qtbot):
    panel = LayoutPanel()
    qtbot.addWidget(panel)
    panel.add_tie(900.0, 1080.0)
    assert "ties" in panel.validation_message()
    with qtbot.waitSignal(panel.layout_changed) as signal:
        panel.add_tie(100.0, 1000.0)
    assert signal.args[0].depth.ties == ((100.0, 1000.0), (900.0, 1080.0))
    assert signal.args[1] == "Add depth tie 1000 at row 100"
    with qtbot.waitSignal(panel.layout_changed) as signal:
        panel.add_tie(900.0, 1090.0)
    assert signal.args[0].depth.ties[-1] == (900.0, 1090.0) and panel.ties.rowCount() == 2


def test_track_drag_sets_the_selected_track_or_adds_one(qtbot):
    panel = LayoutPanel()
    qtbot.addWidget(panel)
    panel.show_layout(_layout())
    panel.tracks.selectRow(1)
    panel.set_track_bounds(400.0, 230.0)
    assert panel.collect()["tracks"][1]["x0"] == 230 and panel.collect()["tracks"][1]["x1"] == 400
    panel.tracks.clearSelection()
    panel.set_track_bounds(430.0, 436.0)
    assert len(panel.collect()["tracks"]) == 3
    qtbot.mouseClick(panel.remove_track, Qt.LeftButton)
    assert len(panel.collect()["tracks"]) == 2
