"""Marker drawing: turn a sample's marker fields into dots and boxes on its images."""

from spar3d.markers.draw import draw_markers, draw_sample

__all__ = ["draw_markers", "draw_sample"]
