"""Multi-view (MV) tasks: 2-5 images per sample, the primary view first (SPAR appx 7.5).

Geometry that the single-view tasks compute in "the camera frame" is computed here in the
PRIMARY camera's frame (the first image), while markers may sit in any view of the sample
(``point_img_idx`` / ``bbox_img_idx`` say which). Importing this package registers every MV task.
"""

from __future__ import annotations

from spar3d.tasks.multiview import (  # noqa: F401  (imported to register the tasks)
    camera_motion,
    map_mv,
    position_matching,
    view_change,
)
