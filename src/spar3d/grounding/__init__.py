"""3D grounding through frame selection (SPAR section 3.5): answer format, lifting, IoU,
refinement, referring expressions, ScanRefer annotations, scoring and the grounding benchmark.

See ``docs/conventions.md`` ("Grounding answers") and ``docs/cli/ground.md``.
"""
