"""Scenes: the scene model, dataset loaders and the synthetic world."""

from spar3d.scenes.model import Frame, Intrinsics, OrientedBox, Scene, SceneMesh, SceneObject

__all__ = ["Frame", "Intrinsics", "OrientedBox", "Scene", "SceneMesh", "SceneObject"]
