"""The distributions the synthetic world is drawn from, in one typed place.

:class:`WorldParams` holds every parameter of the draws of room count, room size, ceiling height,
object count, object scale, surface clutter and the camera walk. ``synthesize`` stores it in each
scene's ``synth_done.json`` (as ``IndexParams`` is stored in an index), so a scene says how it
was made and the same seed and parameters give the same bytes. Where each default comes from
(ScanNet's and ARKitScenes' published statistics, Structured3D's, the SPAR paper's) is stated in
``docs/synthetic.md`` ("World distributions").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class WorldParams:
    """Parameters of the world's random draws.

    Attributes:
        rooms_weights: Probability of 1, 2, 3, ... rooms (joined in a row through doorways).
        room_area_median_m2: Median floor area of one room (log-normal draw).
        room_area_log_sd: Standard deviation of the natural log of the area.
        room_area_range_m2: Areas are clipped to this range.
        room_aspect_range: Long side / short side, drawn uniformly.
        small_room_m2: Rooms below this area are bathrooms (second and later rooms only).
        ceiling_range_m: Ceiling height, drawn uniformly (one height per apartment).
        objects_per_m2: Mean themed objects per square metre of floor.
        objects_range: Themed objects per room are clipped to this range.
        scale_log_sd: Per-object size factor ``exp(N(0, sd))`` applied to the catalog draw.
        scale_range: The size factor is clipped to this range.
        clutter_per_surface: Mean number (Poisson) of small things on each table, desk, counter,
            nightstand, dresser, cabinet and tv stand.
        catch_all_range: Catch-all ``"object"`` clutter per room, inclusive range.
        eye_height_mean_m: Mean camera height of a walk.
        eye_height_sd_m: Standard deviation of a walk's camera height.
        eye_height_range_m: Camera heights are clipped to this range.
        pitch_range_deg: Downward tilt of a walk, drawn uniformly.
        min_look_distance_m: The walk looks at furniture at least this far away.
    """

    rooms_weights: tuple[float, ...] = (0.55, 0.3, 0.15)
    room_area_median_m2: float = 11.5
    room_area_log_sd: float = 0.5
    room_area_range_m2: tuple[float, float] = (6.0, 60.0)
    room_aspect_range: tuple[float, float] = (1.0, 1.8)
    small_room_m2: float = 10.0
    ceiling_range_m: tuple[float, float] = (2.4, 3.2)
    objects_per_m2: float = 0.55
    objects_range: tuple[int, int] = (5, 30)
    scale_log_sd: float = 0.1
    scale_range: tuple[float, float] = (0.8, 1.25)
    clutter_per_surface: float = 1.5
    catch_all_range: tuple[int, int] = (1, 4)
    eye_height_mean_m: float = 1.45
    eye_height_sd_m: float = 0.15
    eye_height_range_m: tuple[float, float] = (1.1, 1.8)
    pitch_range_deg: tuple[float, float] = (5.0, 30.0)
    min_look_distance_m: float = 0.6

    def __post_init__(self) -> None:
        w = np.asarray(self.rooms_weights, float)
        if w.size < 1 or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"rooms_weights must be non-negative, not all 0: {self.rooms_weights}")
        for name in ("room_area_range_m2", "room_aspect_range", "ceiling_range_m",
                     "objects_range", "scale_range", "catch_all_range", "eye_height_range_m",
                     "pitch_range_deg"):  # fmt: skip
            lo, hi = getattr(self, name)
            if not lo <= hi:
                raise ValueError(f"{name} must be an increasing (lo, hi) range, got {(lo, hi)}")
        if self.room_area_range_m2[0] < 4.0 or self.room_aspect_range[0] < 1.0:
            raise ValueError("rooms need at least 4 m2 and an aspect ratio >= 1")
        if self.objects_range[0] < 1:
            raise ValueError(f"objects_range must start at 1 or more, got {self.objects_range}")

    # -- draws -----------------------------------------------------------------------------------

    def draw_n_rooms(self, rng: np.random.Generator) -> int:
        w = np.asarray(self.rooms_weights, float)
        return int(rng.choice(len(w), p=w / w.sum())) + 1

    def draw_room_area(self, rng: np.random.Generator) -> float:
        a = self.room_area_median_m2 * float(np.exp(rng.normal(0.0, self.room_area_log_sd)))
        return float(np.clip(a, *self.room_area_range_m2))

    def draw_room_sides(self, rng: np.random.Generator) -> tuple[float, float]:
        """``(width along x, depth along y)`` of a room of a drawn area and aspect ratio."""
        area = self.draw_room_area(rng)
        aspect = float(rng.uniform(*self.room_aspect_range))
        long, short = float(np.sqrt(area * aspect)), float(np.sqrt(area / aspect))
        return (long, short) if rng.random() < 0.5 else (short, long)

    def draw_n_objects(self, area_m2: float, rng: np.random.Generator) -> int:
        n = int(rng.poisson(self.objects_per_m2 * area_m2))
        return int(np.clip(n, *self.objects_range))

    def draw_scale(self, rng: np.random.Generator) -> float:
        return float(np.clip(np.exp(rng.normal(0.0, self.scale_log_sd)), *self.scale_range))

    def draw_eye_height(self, rng: np.random.Generator) -> float:
        h = rng.normal(self.eye_height_mean_m, self.eye_height_sd_m)
        return float(np.clip(h, *self.eye_height_range_m))

    # -- storage ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The parameters as JSON values (tuples as lists), as stored in ``synth_done.json``."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorldParams:
        """Parameters from :meth:`to_json` output; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown world parameter(s) {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


DEFAULT_WORLD = WorldParams()
#: One furnished room of 18-32 m2 walked at eye height (1.35-1.55 m) looking 10-12 degrees down
#: at furniture a metre or more away: the one size class of every synthetic scene before the
#: draws were matched to real scans. A small test that makes a single scene and needs every task
#: to find questions in it takes this.
ONE_ROOM = WorldParams(rooms_weights=(1.0,), room_area_median_m2=24.0,
                       room_area_range_m2=(18.0, 32.0), eye_height_sd_m=0.06,
                       eye_height_range_m=(1.35, 1.55), pitch_range_deg=(10.0, 12.0),
                       min_look_distance_m=1.0)  # fmt: skip
