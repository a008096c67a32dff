"""Video (V) tasks: a frame sequence per sample, frames under ``video_color/`` (SPAR appx 7.5).

Every task of a scene shows the same sequence, the scene's keyframes in capture order evenly
subsampled (:func:`spar3d.tasks.video.frames.video_frames`); ``nav_video`` instead shows the frames
along an RxR path. Importing this package registers every video task.
"""

from __future__ import annotations

from spar3d.tasks.video import (  # noqa: F401  (imported to register the tasks)
    appearance,
    count,
    distance,
    nav,
    room,
)
