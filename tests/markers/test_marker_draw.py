"""Marker pixels land at the normalised coordinates, on the right image only.

Images are 1000x1000 so 0-1000 coordinates equal pixel coordinates, which makes every
expected pixel checkable by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from spar3d.errors import InputError, UnsafeInputError
from spar3d.markers.draw import draw_markers, draw_sample

GREY = (128, 128, 128)
RGB = {"red": (255, 0, 0), "blue": (0, 0, 255), "green": (0, 255, 0), "yellow": (255, 255, 0)}


def _blank(n: int = 1, size: tuple[int, int] = (1000, 1000)) -> list[Image.Image]:
    return [Image.new("RGB", size, GREY) for _ in range(n)]


def _color_at(image: Image.Image, xy: tuple[int, int]) -> str | None:
    px = image.getpixel(xy)
    for name, rgb in {**RGB, "grey": GREY}.items():
        if px == rgb:
            return name
    return None


def _colors_in(image: Image.Image) -> set[str]:
    found = {_color_at(image, (x, y)) for x in range(0, 1000, 5) for y in range(0, 1000, 5)}
    return found - {None, "grey"}


def test_points_are_dots_of_radius_20() -> None:
    sample = {"id": "s", "red_point": [[250, 500]], "blue_point": [[750, 400]]}
    (img,) = draw_markers(_blank(), sample)
    assert _color_at(img, (250, 500)) == "red"
    assert _color_at(img, (250 + 18, 500)) == "red"  # inside radius 20
    assert _color_at(img, (250 + 24, 500)) == "grey"  # outside
    assert _color_at(img, (750, 400)) == "blue"
    assert _color_at(img, (750, 400 - 24)) == "grey"


def test_points_scale_with_image_size() -> None:
    sample = {"id": "s", "red_point": [[250, 500]]}
    (img,) = draw_markers(_blank(1, (640, 480)), sample)
    # x = 250 * 640 / 1000 = 160, y = 500 * 480 / 1000 = 240
    assert img.getpixel((160, 240)) == RGB["red"]
    assert img.getpixel((160 + 25, 240)) == GREY


def test_box_is_thick_outline_outside_the_box() -> None:
    sample = {"id": "s", "red_bbox": [[300, 300, 700, 700]]}
    (img,) = draw_markers(_blank(), sample)
    # outset 20 * 7/8 = 17.5 -> outer rectangle x from int(282.5) = 282, 20 px thick: 282..301
    assert _color_at(img, (290, 500)) == "red"
    assert _color_at(img, (300, 500)) == "red"
    assert _color_at(img, (305, 500)) == "grey"  # inside the box, the object stays visible
    assert _color_at(img, (275, 500)) == "grey"  # beyond the outline
    assert _color_at(img, (500, 500)) == "grey"
    assert _color_at(img, (500, 710)) == "red"  # bottom edge: y from 717 - 19 = 698 to 717


def test_markers_go_on_the_image_point_img_idx_names() -> None:
    sample = {
        "id": "mv",
        "type": "depth_prediction_oc_mv",
        "red_point": [[200, 200]],
        "blue_point": [[800, 800]],
        "point_img_idx": [[1, 0]],
    }
    a, b = draw_markers(_blank(2), sample)
    assert _color_at(b, (200, 200)) == "red" and _colors_in(b) == {"red"}
    assert _color_at(a, (800, 800)) == "blue" and _colors_in(a) == {"blue"}


def test_spatial_imagination_mv_uses_spar_colour_order() -> None:
    # SPAR reads bbox_img_idx of this task as (green, blue, red, yellow).
    sample = {
        "id": "si",
        "type": "spatial_imagination_oo_mv",
        "red_bbox": [[100, 100, 300, 300]],
        "blue_bbox": [[100, 100, 300, 300]],
        "green_bbox": [[100, 100, 300, 300]],
        "yellow_bbox": [[100, 100, 300, 300]],
        "bbox_img_idx": [[3, 2, 1, 0]],
    }
    images = draw_markers(_blank(4), sample)
    assert [_colors_in(im) for im in images] == [{"yellow"}, {"red"}, {"blue"}, {"green"}]


def test_default_order_is_the_field_order() -> None:
    sample = {
        "id": "oo",
        "type": "obj_spatial_relation_oo_mv",
        "blue_bbox": [[100, 100, 300, 300]],
        "red_bbox": [[500, 500, 700, 700]],
        "bbox_img_idx": [[0, 1]],
    }
    a, b = draw_markers(_blank(2), sample)
    assert _colors_in(a) == {"blue"} and _colors_in(b) == {"red"}


def test_point_list_is_labelled_on_its_images() -> None:
    sample = {
        "id": "v",
        "type": "distance_infer_center_oo_video",
        "point_list": [[[100, 100], [500, 500], [800, 200]]],
        "point_img_idx": [[0, 2, 2]],
    }
    a, b, c = draw_markers(_blank(3), sample)
    assert a.getpixel((100, 100)) == RGB["blue"]
    assert b.getpixel((500, 500)) == GREY and _colors_in(b) == set()
    assert c.getpixel((500, 500)) == RGB["blue"] and c.getpixel((800, 200)) == RGB["blue"]
    # The label patch (white text on blue) starts at the dot's lower right: (120, 120) onwards.
    patch = [a.getpixel((x, y)) for x in range(120, 260) for y in range(120, 170)]
    assert (255, 255, 255) in patch and RGB["blue"] in patch


def test_bad_index_names_the_sample() -> None:
    sample = {"id": "bad1", "red_point": [[1, 1]], "point_img_idx": [[2]]}
    with pytest.raises(ValueError, match="bad1.*point_img_idx"):
        draw_markers(_blank(2), sample)
    with pytest.raises(ValueError, match="bad2.*red_bbox"):
        draw_markers(_blank(), {"id": "bad2", "red_bbox": [[1, 2, 3]]})


def test_draw_sample_loads_from_images_root(tmp_path: Path) -> None:
    (tmp_path / "sc").mkdir()
    Image.new("RGB", (1000, 1000), GREY).save(tmp_path / "sc" / "0.png")
    sample = {"id": "x", "image": ["sc/0.png"], "green_point": [[400, 600]]}
    (img,) = draw_sample(sample, tmp_path)
    assert img.getpixel((400, 600)) == RGB["green"]
    with pytest.raises(InputError, match="'y'.*image not found"):
        draw_sample({"id": "y", "image": ["sc/1.png"]}, tmp_path)


def test_cached_label_patch_equals_drawing_in_place() -> None:
    """Labels are rendered once and pasted; the pixels equal PIL drawing rectangle and text at
    the clamped place (reference drawn here with ImageDraw directly), on images of every size
    and at places that push the label against the borders."""
    import numpy as np
    from PIL import ImageDraw

    from spar3d.markers.draw import LABEL_TEXT, _font, draw_label, label_size_px

    def reference(image, xy, text, color):
        draw = ImageDraw.Draw(image)
        font = _font(label_size_px(image.height))
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        w, h = right - left + 8, bottom - top + 8
        x = min(max(0, int(xy[0])), max(0, image.width - w))
        y = min(max(0, int(xy[1])), max(0, image.height - h))
        draw.rectangle([x, y, x + w, y + h], fill=color)
        draw.text((x + 4 - left, y + 4 - top), text, fill=LABEL_TEXT, font=font)

    rng = np.random.default_rng(0)
    for k in range(60):
        width, height = [(320, 240), (640, 480), (1296, 968), (60, 30)][k % 4]
        base = Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
        a, b = base.copy(), base.copy()
        xy = (float(rng.uniform(-50, width + 50)), float(rng.uniform(-50, height + 50)))
        reference(a, xy, f"object{k % 12}", (0, 0, 255))
        draw_label(b, xy, f"object{k % 12}", (0, 0, 255))
        assert np.array_equal(np.asarray(a), np.asarray(b)), (width, height, xy)


def test_draw_sample_refuses_paths_outside_the_images_root(tmp_path: Path) -> None:
    root = tmp_path / "images"
    (root / "sc").mkdir(parents=True)
    Image.new("RGB", (10, 10), GREY).save(tmp_path / "secret.png")
    for bad in ("../secret.png", str(tmp_path / "secret.png"), "sc/../../secret.png"):
        with pytest.raises(UnsafeInputError, match="leaves the folder"):
            draw_sample({"id": "evil", "image": [bad]}, root)
    (img,) = draw_sample({"id": "ok", "image": ["../secret.png"]}, root, allow_outside=True)
    assert img.size == (10, 10)


def test_draw_sample_names_an_undecodable_image(tmp_path: Path) -> None:
    (tmp_path / "sc").mkdir()
    Image.new("RGB", (64, 64), GREY).save(tmp_path / "sc" / "0.jpg")
    data = (tmp_path / "sc" / "0.jpg").read_bytes()
    (tmp_path / "sc" / "0.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="'t'.*cannot decode image .*0.jpg"):
        draw_sample({"id": "t", "image": ["sc/0.jpg"]}, tmp_path)
