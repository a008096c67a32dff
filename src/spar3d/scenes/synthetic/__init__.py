"""Procedural synthetic indoor world: rooms, furniture, camera walks, rendering and ScanNet export.

Used by the tests, the demo and the benchmarks: it needs no downloaded data.
"""

from spar3d.scenes.synthetic.world import SyntheticWorld, WorldObject, build_world

__all__ = ["SyntheticWorld", "WorldObject", "build_world"]
