"""Distance and imagination video tasks, answers recomputed from the fixture's 3D boxes."""

from __future__ import annotations

import numpy as np
import pytest
from video_factory import VIDEO_OBJECTS, answer_text, project_norm1000

from spar3d.tasks import create_task

CENTRE = {oid: np.array(c, float) for oid, _, c, _, _ in VIDEO_OBJECTS}
LABEL = {oid: lab for oid, lab, *_ in VIDEO_OBJECTS}


def test_distance_prediction_oo_video(video_room):
    samples, _ = create_task("distance_prediction_oo_video").generate(video_room, 12, seed=0)
    assert len(samples) == 12
    for s in samples:
        a, b = s["meta"]["object_ids"]
        fa, fb = s["point_img_idx"][0]
        assert fa != fb  # marked in two different frames
        d = float(np.linalg.norm(CENTRE[a] - CENTRE[b]))
        assert s["meta"]["quantities"]["distance_m"] == pytest.approx(d, abs=1e-3)
        if s["meta"]["format"] != "select":
            assert f"{d:.1f}" in s["conversations"][1]["value"]
        for color, oid, pos in (("red", a, fa), ("blue", b, fb)):
            image = video_room.images[s["meta"]["image_indices"][pos]]
            x, y = project_norm1000(image.T_world_cam, CENTRE[oid])
            assert s[f"{color}_point"][0] == pytest.approx([x, y], abs=1)


def test_distance_infer_center_oo_video(video_room):
    task = create_task("distance_infer_center_oo_video")
    samples, _ = task.generate(video_room, 9, seed=1)
    assert len(samples) == 9
    for s in samples:
        a, *cands = s["meta"]["object_ids"]
        d = [float(np.linalg.norm(CENTRE[a] - CENTRE[c])) for c in cands]
        best = int(np.argmin(d))
        assert sorted(d)[1] - d[best] >= 0.2
        answer = answer_text(s)
        assert f"object{best}" in answer
        assert len(s["point_list"][0]) == len(s["point_img_idx"][0]) == 4
        q = s["conversations"][0]["value"]
        for i, c in enumerate(cands):
            assert f"object{i} ({LABEL[c]})" in q


def observer_words(move_to, face, target, reference=None, th=0.1):
    """Test-side relation words after moving to ``move_to`` and facing ``face``."""
    A = CENTRE[move_to]
    f = CENTRE[face] - A
    f /= np.linalg.norm(f)
    r = np.cross(f, [0, 0, 1.0])
    r /= np.linalg.norm(r)
    up = np.cross(r, f)  # right x forward = up (z-up world)

    def local(o):
        v = CENTRE[o] - A
        return np.array([v @ r, v @ up, v @ f])

    t = local(target)
    if reference is None:
        dx, dup, dfwd = t
        far_words = ("front", "behind")
    else:
        s = local(reference)
        dx, dup = t[0] - s[0], t[1] - s[1]
        dfwd = np.linalg.norm(t) - np.linalg.norm(s)  # farther from the observer = behind
        far_words = ("behind", "front")

    def w(d, pos, neg):
        return "" if abs(d) < th else (pos if d > 0 else neg)

    return [w(dx, "right", "left"), w(dup, "above", "below"), w(dfwd, *far_words)]


PHRASES = {
    "left": "to the left",
    "right": "to the right",
    "above": "above",
    "below": "below",
    "front": "in front",
    "behind": "behind",
}


@pytest.mark.parametrize(
    "name, n",
    [
        ("spatial_imagination_oc_video", 3),
        ("spatial_imagination_oo_video", 4),
        ("spatial_imagination_oc_video_hard", 3),
        ("spatial_imagination_oo_video_hard", 4),
    ],
)
def test_spatial_imagination_video(video_room, name, n):
    samples, _ = create_task(name).generate(video_room, 10, seed=2)
    assert len(samples) == 10
    for s in samples:
        ids = s["meta"]["object_ids"]
        assert len(ids) == n
        words = observer_words(*ids)
        assert s["meta"]["quantities"]["relation_after"] == words
        answer = s["conversations"][1]["value"]
        for word in filter(None, words):
            assert PHRASES[word] in answer
        q = s["conversations"][0]["value"]
        if name.endswith("_hard"):
            labels = [lab for _, lab, *_ in VIDEO_OBJECTS]
            assert all(labels.count(LABEL[o]) == 1 for o in ids)  # named only: unique labels
            assert not any(k.endswith("_bbox") for k in s)
        else:
            colors = ["green", "blue", "red", "yellow"][:n]
            assert [k for k in s if k.endswith("_bbox")] == [f"{c}_bbox" for c in colors]
            for k, (color, o) in enumerate(zip(colors, ids, strict=True)):
                assert f"object{k}" in q and f"{color} bbox" in q
                frame = s["meta"]["image_indices"][s["bbox_img_idx"][0][k]]
                assert o in [v.object_id for v in video_room.images[frame].visible]
