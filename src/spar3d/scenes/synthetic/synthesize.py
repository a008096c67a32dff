"""Making a folder of synthetic ScanNet-layout scenes, resumable, with a progress bar.

Each scene is a :mod:`spar3d.pipeline` job (``resumed`` when its done-marker matches the
settings, ``failed`` with the error, the other scenes still made)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spar3d.errors import ConfigError, Spar3dError
from spar3d.io import write_json
from spar3d.pipeline import Resumed, SerialExecutor, run_jobs
from spar3d.progress import Progress
from spar3d.scenes.synthetic import export_sources
from spar3d.scenes.synthetic.export import DONE_MARKER, write_scannet_scene
from spar3d.scenes.synthetic.params import DEFAULT_WORLD, WorldParams
from spar3d.scenes.synthetic.world import build_world

#: ``spar3d synth --layout``: the on-disk layout written, and so the loader that reads it back.
LAYOUTS = (
    "scannet", "scannet_preprocessed", "scannetpp", "structured3d", "arkitscenes", "3rscan",
    "matterport3d",
)  # fmt: skip
_WRITERS = {
    "scannet": write_scannet_scene,
    "scannet_preprocessed": export_sources.write_scannet_preprocessed_scene,
    "scannetpp": export_sources.write_scannetpp_scene,
    "structured3d": export_sources.write_structured3d_scene,
    "arkitscenes": export_sources.write_arkitscenes_scene,
    "3rscan": export_sources.write_3rscan_scene,
    "matterport3d": export_sources.write_matterport3d_scene,
}

#: Defaults of ``spar3d synth``: a scene in a few seconds on one CPU core.
DEFAULT_FRAMES = 120
DEFAULT_WIDTH = 320
DEFAULT_HEIGHT = 240


def scene_id(k: int, layout: str = "scannet") -> str:
    """Name of the k-th synthetic scene in the naming style of ``layout``: ``synth0000_00``
    (ScanNet), ``synth0000pp`` (ScanNet++), ``scene_00000`` (Structured3D), ``90000000``
    (ARKitScenes video ids are numbers), a UUID (3RScan scans), an 11-character house id
    ``synth000000`` (Matterport3D)."""
    if layout == "scannetpp":
        return f"synth{k:04d}pp"
    if layout == "structured3d":
        return f"scene_{k:05d}"
    if layout == "arkitscenes":
        return str(90000000 + k)
    if layout == "3rscan":
        return f"5b7c0000-0000-4000-8000-{k:012d}"
    if layout == "matterport3d":
        return f"synth{k:06d}"
    return f"synth{k:04d}_00"


def _marker_folder(out: Path, sid: str, layout: str) -> Path:
    return out / "posed_images" / sid if layout == "scannet_preprocessed" else out / sid


def _scene_path(out: Path, sid: str, layout: str) -> Path:
    """What the layout's loader takes: the scene folder, or the preprocessed prefix."""
    if layout == "scannet_preprocessed":
        return out / export_sources.INSTANCE_DIR / sid
    if layout == "matterport3d":  # the loader reads one region of the house
        return out / sid / "region_segmentations" / "region0.ply"
    return out / sid


def scene_seed(seed: int, k: int) -> int:
    """Seed of scene ``k`` of a run seeded ``seed``: independent of how many scenes are made."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def _params(
    seed: int, k: int, n_frames: int, width: int, height: int, layout: str = "scannet",
    detail: int | None = None,
    world: WorldParams = DEFAULT_WORLD,
) -> dict[str, object]:
    s = scene_seed(seed, k)
    extra: dict[str, object] = {} if layout == "scannet" else {"layout": layout}
    extra.update(_ours(detail, world))
    return {
        **extra,
        "scene_id": scene_id(k, layout),
        "world_seed": s,
        "seed": s,
        "n_frames": n_frames,
        "width": width,
        "height": height,
    }


def _ours(detail: int | None, world: WorldParams) -> dict[str, object]:
    """What ``synthesize`` adds to the writers' done-marker: the world's distributions and the
    mesh detail."""
    out: dict[str, object] = {"world_params": world.to_json()}
    if detail:
        out["detail_faces"] = detail
    return out


def is_complete(folder: Path, params: dict[str, object]) -> bool:
    """Whether ``folder`` holds a finished export made with ``params`` (its marker says so)."""
    marker = folder / DONE_MARKER
    if not marker.is_file():
        return False
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(done, dict) and all(done.get(k) == v for k, v in params.items())


def synthesize(
    out: str | Path,
    n_scenes: int,
    seed: int,
    n_frames: int = DEFAULT_FRAMES,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    progress: bool = True,
    layout: str = "scannet",
    detail: int | None = None,
    world: WorldParams | None = None,
) -> list[Path]:
    """Write ``n_scenes`` synthetic scenes ``out/synth0000_00 ...`` in the given layout.

    Scene k is built from ``scene_seed(seed, k)``, so it is the same whether 1 or 10 scenes are
    made. A scene whose done-marker matches these settings is skipped (resume after a stop).

    Args:
        layout: One of :data:`LAYOUTS` (default ScanNet's scan folders).
        detail: Subdivide each mesh to at least this many faces (ScanNet's ``vh_clean_2``
            meshes have a few hundred thousand), so indexing costs what it costs on real scans.
        world: The distributions the worlds are drawn from (default ``DEFAULT_WORLD``); stored
            in each scene's ``synth_done.json`` as ``world_params``.

    Returns:
        The scene paths, in order: what ``spar3d index`` and ``load_scene`` take.
    """
    if layout not in _WRITERS:
        raise ConfigError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    writer = _WRITERS[layout]
    world_params = world or DEFAULT_WORLD
    if n_scenes < 0 or n_frames < 1 or width < 1 or height < 1:
        raise ConfigError(
            f"need n_scenes >= 0 and positive frames/size, got {n_scenes=}, {n_frames=}, {width=}, {height=}"
        )
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    folders: list[Path] = []
    failed: dict[str, str] = {}
    # One display counting frames over every scene (a resumed scene counts its frames at once),
    # with the scenes finished beside it: a bar on a terminal, plain lines in a log.
    with Progress("synth (frames)", n_scenes * n_frames, enabled=progress,
                  fields={"scenes": 0}) as bar:  # fmt: skip
        written = [0]

        def on_frame() -> None:
            written[0] += 1
            bar.advance(1)

        def make(k: int) -> Path | Resumed[Path]:
            sid = scene_id(k, layout)
            params = _params(seed, k, n_frames, width, height, layout, detail, world_params)
            marker_folder = _marker_folder(out, sid, layout)
            if is_complete(marker_folder, params):
                return Resumed(_scene_path(out, sid, layout))
            s = scene_seed(seed, k)
            world = build_world(s, subdivide_to_faces=detail or None, params=world_params)
            writer(world, out, sid, n_frames, width, height, seed=s, on_frame=on_frame)
            # the writers record the world seed; the distributions and detail are ours to record
            marker = marker_folder / DONE_MARKER
            done = json.loads(marker.read_text(encoding="utf-8"))
            write_json(marker, {**done, **_ours(detail, world_params)}, indent=1)
            return _scene_path(out, sid, layout)

        # Serial: scenes are independent, so a failing one is reported after the others are made.
        for n_done, outcome in enumerate(run_jobs(make, range(n_scenes), SerialExecutor()), 1):
            if outcome.value is None:
                failed[scene_id(outcome.item, layout)] = outcome.error
            else:
                folders.append(outcome.value)
            # frames a resumed or failed scene did not write still count as handled
            bar.advance(max(n_frames - written[0], 0), scenes=n_done)
            written[0] = 0
    if layout == "scannet_preprocessed" and n_scenes:
        export_sources.write_infos(out, [scene_id(k, layout) for k in range(n_scenes)])
    if failed:
        raise Spar3dError(f"{len(failed)} synthetic scene(s) failed: {failed}")
    return folders
