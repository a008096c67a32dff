"""spar3d: spatial question-answer data and SPAR-Bench evaluation from 3D indoor scenes.

Conventions (stated once, in ``docs/conventions.md``): metres; world frame z-up; camera frame is
OpenCV's (+x right, +y down, +z forward); poses are camera-to-world 4x4 matrices named
``T_world_cam``; image coordinates in questions and markers are normalised to 0-1000.
"""

__version__ = "0.1.0"
