"""Geometry: transforms, pinhole projection, boxes, relations, poses and ray casting."""
