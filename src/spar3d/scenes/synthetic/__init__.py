"""Procedural synthetic indoor world: rooms, furniture, camera walks, rendering and ScanNet export.

Used by the tests, the demo and the benchmarks: it needs no downloaded data. See
``docs/synthetic.md``.
"""

from spar3d.scenes.synthetic.export import write_scannet_scene
from spar3d.scenes.synthetic.render import default_intrinsics, make_world_caster, render_frame
from spar3d.scenes.synthetic.synthesize import synthesize
from spar3d.scenes.synthetic.trajectory import camera_trajectory
from spar3d.scenes.synthetic.world import SyntheticWorld, WorldObject, build_world

__all__ = [
    "SyntheticWorld",
    "WorldObject",
    "build_world",
    "camera_trajectory",
    "default_intrinsics",
    "make_world_caster",
    "render_frame",
    "synthesize",
    "write_scannet_scene",
]
