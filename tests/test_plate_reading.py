"""The plate reader turns what its recogniser reads into plates: the groups of one plate joined, look-alike
characters fitted to the plate formats; on real plates cut out of a traffic camera's pictures (tuned set)."""

from __future__ import annotations

import cv2
import pandas as pd
import pytest

from workbench.bench._labelled_images import HELD_OUT_PLATES, PLATES
from workbench.search.plate_reading import as_plate, joined_lines, shared_reader


def _picture(text: str):  # type: ignore[no-untyped-def]
    table = pd.read_csv(PLATES, dtype={"text": str}, keep_default_na=False)
    return cv2.imread(str(PLATES.parent / table.set_index("text").loc[text, "image"]))


@pytest.mark.parametrize("read, plate", [
    ("001 662", "OOI662"),      # the gap says three letters, three digits: the zeros and the one are letters
    ("AB 023·1G", "AB023IG"),   # the gaps say 2-3-2 (FR / IT / AR): the last group is letters
    ("1-A8C-234", "1ABC234"),   # Belgian 1-3-3
    ("5AU 5341", "5AU5341"),    # fits as read, gaps and all: kept as read
    ("JPU 238", "JPU238"),
])
def test_look_alike_characters_are_fitted_to_the_format_the_gaps_show(read, plate):
    assert as_plate(read) == plate


@pytest.mark.parametrize("read", ["SQUAD", "GOOD LUCK", "B1G SALE", "TAXI"])
def test_words_are_not_changed_into_plates(read):
    assert as_plate(read) is None   # a changed reading needs its gaps where a format prints them


def test_a_plate_read_in_two_parts_is_joined_and_unrelated_lines_are_not():
    lines = [("NMM", 1.0, (0, 0, 40, 20)), ("840", 0.9, (48, 1, 40, 20)), ("TAXI", 0.99, (0, 60, 40, 20))]
    assert sorted(t for t, _, _ in joined_lines(lines)) == ["NMM 840", "TAXI"]
    far = [("NMM", 1.0, (0, 0, 40, 20)), ("840", 0.9, (200, 1, 40, 20))]
    assert sorted(t for t, _, _ in joined_lines(far)) == ["840", "NMM"]   # too far apart for one plate
    tall = [("NMM", 1.0, (0, 0, 40, 20)), ("840", 0.9, (48, 1, 40, 60))]
    assert sorted(t for t, _, _ in joined_lines(tall)) == ["840", "NMM"]  # not one line's height


@pytest.mark.parametrize("text", ["OOI662", "NMM840", "A035HFA", "OPT205"])
def test_real_plates_split_or_misread_by_the_recogniser_read_whole(text):
    """A wide gap between the groups (NMM 840, OPT 205), a two-line motorcycle plate (A03 / 5HFA), zeros for
    Os (001 662): each read as its plate, from the tuned set's crops."""
    reader, why = shared_reader()
    assert reader is not None, why
    assert text in [p.plate for p in reader.read(_picture(text))]


def test_the_held_out_plates_are_apart_from_the_tuned_ones():
    tuned, held_out = pd.read_csv(PLATES), pd.read_csv(HELD_OUT_PLATES, dtype={"text": str}, keep_default_na=False)
    assert len(held_out) >= 40 and (held_out["text"] != "").sum() >= 30
    assert not {name.split("/")[-1] for name in tuned["image"]} & {name.split("/")[-1] for name in held_out["image"]}
    for image, boxes in held_out.groupby("image"):
        height, width = cv2.imread(str(HELD_OUT_PLATES.parent / str(image))).shape[:2]
        assert ((boxes["x0"] >= 0) & (boxes["x0"] < boxes["x1"]) & (boxes["x1"] <= width)).all(), image
        assert ((boxes["y0"] >= 0) & (boxes["y0"] < boxes["y1"]) & (boxes["y1"] <= height)).all(), image
