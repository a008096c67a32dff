"""A hand-held-like camera walk through the synthetic world.

The walk goes between random goal points over a grid of free floor (inside the walls, through
doorways, clear of furniture), is smoothed, and is sampled at a small constant step per frame,
like a 30 fps ScanNet capture kept every tenth frame. The camera stays at a height drawn per walk
(``WorldParams.draw_eye_height``), looks at furniture while sweeping left and right, and tilts
down by an angle drawn per walk (``WorldParams.pitch_range_deg``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from spar3d.geometry.transforms import look_at
from spar3d.scenes.synthetic.layout import WALL_T
from spar3d.scenes.synthetic.render import default_intrinsics
from spar3d.scenes.synthetic.world import SyntheticWorld

F64 = NDArray[np.float64]
CELL = 0.1  # grid resolution of the free-floor map, metres
CLEARANCE = 0.3  # distance kept from walls and furniture, metres
STEP = 0.06  # camera travel between consecutive frames, metres
BOB = 0.05  # amplitude of the slow up-and-down bob around a walk's height, metres


def free_floor(
    world: SyntheticWorld, clearance: float = CLEARANCE
) -> tuple[NDArray[np.bool_], F64]:
    """Grid of floor cells a camera may stand over.

    Returns:
        ``free`` ``(NX, NY) bool`` and ``origin`` ``(2,)``: cell (i, j) has its centre at
        ``origin + CELL * (i, j)``.
    """
    x0 = min(r.x0 for r in world.rooms)
    y0 = min(r.y0 for r in world.rooms)
    x1 = max(r.x1 for r in world.rooms)
    y1 = max(r.y1 for r in world.rooms)
    origin = np.array([x0, y0]) + CELL / 2
    nx, ny = int(np.ceil((x1 - x0) / CELL)), int(np.ceil((y1 - y0) / CELL))
    gx, gy = np.meshgrid(
        origin[0] + CELL * np.arange(nx), origin[1] + CELL * np.arange(ny), indexing="ij"
    )
    free = np.zeros((nx, ny), bool)
    for r in world.rooms:
        ax0, ay0, ax1, ay1 = r.interior(clearance)
        free |= (gx >= ax0) & (gx <= ax1) & (gy >= ay0) & (gy <= ay1)
    for w in world.walls:  # a passage through each doorway
        if w.doorway is None:
            continue
        s0, s1, _ = w.doorway
        along = (np.asarray(w.p1, float) - np.asarray(w.p0, float)) / w.length
        normal = np.asarray(w.normal, float)
        rel = np.stack([gx - w.p0[0], gy - w.p0[1]], axis=-1)
        s, n = rel @ along, rel @ normal
        free |= (s >= s0 + 0.15) & (s <= s1 - 0.15) & (np.abs(n) <= WALL_T / 2 + clearance + CELL)
    pts = np.stack([gx, gy], axis=-1)
    for o in world.furniture():
        R2 = o.box.R_world_box[:2, :2]
        local = (pts - o.box.center[:2]) @ R2
        half = o.box.size[:2] / 2 + clearance
        free &= ~((np.abs(local[..., 0]) <= half[0]) & (np.abs(local[..., 1]) <= half[1]))
    return free, origin


def _grid_graph(free: NDArray[np.bool_]) -> coo_matrix:
    """8-connected graph over free cells, weighted by step length (cells)."""
    nx, ny = free.shape
    rows, cols, wts = [], [], []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        i, j = np.meshgrid(
            np.arange(nx - dx), np.arange(max(0, -dy), ny - max(0, dy)), indexing="ij"
        )
        ok = free[i, j] & free[i + dx, j + dy]
        rows.append((i * ny + j)[ok])
        cols.append(((i + dx) * ny + j + dy)[ok])
        wts.append(np.full(int(ok.sum()), np.hypot(dx, dy)))
    r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(wts)
    n = nx * ny
    return coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n)
    )


def _walk(free: NDArray[np.bool_], origin: F64, length_m: float, rng: np.random.Generator) -> F64:
    """A polyline ``(M, 2)`` of cell centres visiting random goals until it is ``length_m`` long."""
    labels, n = ndimage.label(free, structure=np.ones((3, 3)))
    if n == 0:
        raise RuntimeError("synthetic world has no free floor for the camera")
    sizes = ndimage.sum(free, labels, index=np.arange(1, n + 1))
    comp = labels == (int(np.argmax(sizes)) + 1)
    cells = np.argwhere(comp)
    graph = _grid_graph(comp).tocsr()
    ny = free.shape[1]
    cur = cells[int(rng.integers(len(cells)))]
    path = [cur]
    total = 0.0
    for _ in range(200):
        if total >= length_m:
            break
        far = cells[np.linalg.norm(cells - cur, axis=1) * CELL > 1.5]
        goal = (far if len(far) else cells)[int(rng.integers(len(far) if len(far) else len(cells)))]
        if np.array_equal(goal, cur):
            continue
        _, pred = dijkstra(graph, indices=int(cur[0] * ny + cur[1]), return_predecessors=True)
        node, back = int(goal[0] * ny + goal[1]), []
        while node != cur[0] * ny + cur[1] and node >= 0:
            back.append((node // ny, node % ny))
            node = int(pred[node])
        seg = np.array(back[::-1])
        total += float(np.linalg.norm(np.diff(np.vstack([cur, seg]), axis=0), axis=1).sum()) * CELL
        path.extend(seg)
        cur = goal
    return origin + CELL * np.asarray(path, float)


def _resample(poly: F64, step: float) -> F64:
    """Points every ``step`` metres of arc length along a polyline."""
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.arange(0.0, s[-1] + 1e-9, step)
    return np.stack([np.interp(t, s, poly[:, k]) for k in range(poly.shape[1])], axis=1)


def _attention_yaw(
    world: SyntheticWorld, xy: F64, heading: F64, rng: np.random.Generator, min_dist: float = 1.0
) -> F64:
    """Per-frame yaw ``(n,)`` towards an object of interest, changed every second or so.

    A person scanning a room looks at the furniture rather than where they step; looking at an
    object at least ``min_dist`` away also keeps walls from filling the view.
    """
    n = len(xy)
    yaw = heading.copy()
    objs = [o for o in world.furniture() if o.kind != "top"]
    k = 0
    while k < n:
        span = int(rng.integers(25, 45))
        room = next(
            (
                r
                for r, rm in enumerate(world.rooms)
                if rm.x0 <= xy[k, 0] <= rm.x1 and rm.y0 <= xy[k, 1] <= rm.y1
            ),
            0,
        )
        cands = [
            o for o in objs if o.room == room and np.linalg.norm(o.box.center[:2] - xy[k]) > min_dist
        ]
        if cands:
            c = cands[int(rng.integers(len(cands)))].box.center[:2]
            d = c - xy[k : k + span]
            yaw[k : k + span] = np.arctan2(d[:, 1], d[:, 0])
        k += span
    return np.unwrap(yaw)


def camera_trajectory(
    world: SyntheticWorld, n_frames: int, seed: int, width: int = 640, height: int = 480
) -> list[F64]:
    """Camera-to-world poses ``(4, 4)`` of a smooth walk through ``world`` (OpenCV cameras).

    Args:
        world: The world to walk through.
        n_frames: Number of poses.
        seed: Seed of the walk (independent of the world's seed).
        width, height: Image size; the tilt is drawn from ``world.params.pitch_range_deg`` and
            kept under the vertical half field of view of :func:`default_intrinsics` at this
            size, so the floor ahead stays in view.

    Returns:
        ``n_frames`` poses; consecutive ones are at most ``STEP`` metres apart.
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    rng = np.random.default_rng(seed)
    free, origin = free_floor(world)
    poly = _walk(free, origin, STEP * (n_frames + 40), rng)
    dense = _resample(poly, STEP / 3)
    smooth = ndimage.gaussian_filter1d(dense, sigma=12, axis=0, mode="nearest")
    # smoothing cuts corners; where that leaves the free floor, keep the grid path instead
    loose, _ = free_floor(world, clearance=CLEARANCE - 0.12)
    ij = np.clip(np.rint((smooth - origin) / CELL).astype(int), 0, np.array(free.shape) - 1)
    ok = loose[ij[:, 0], ij[:, 1]]
    smooth[~ok] = dense[~ok]
    xy = _resample(smooth, STEP)
    if len(xy) >= 2:
        tangent = np.gradient(xy, axis=0)
        heading = np.unwrap(np.arctan2(tangent[:, 1], tangent[:, 0]))
    else:  # nowhere to walk: stand and look around
        heading = np.full(1, rng.uniform(-np.pi, np.pi))
    if len(xy) < n_frames:  # walk shorter than asked: turn on the spot at its end
        extra = n_frames - len(xy)
        xy = np.vstack([xy, np.repeat(xy[-1:], extra, axis=0)])
        heading = np.concatenate([heading, heading[-1] + np.radians(4.0) * np.arange(1, extra + 1)])
    xy, heading = xy[:n_frames], heading[:n_frames]
    i = np.arange(n_frames)
    sweep = np.radians(rng.uniform(10, 20)) * np.sin(
        2 * np.pi * i / rng.uniform(50, 90) + rng.uniform(0, 2 * np.pi)
    )
    yaw = (
        ndimage.gaussian_filter1d(
            _attention_yaw(world, xy, heading, rng, world.params.min_look_distance_m),
            sigma=12,
            mode="nearest",
        )
        + sweep
    )
    half_vfov = float(np.degrees(np.arctan2(height / 2, default_intrinsics(width, height)[1, 1])))
    pitch0 = min(float(rng.uniform(*world.params.pitch_range_deg)), half_vfov)
    pitch = np.radians(
        pitch0 + 4.0 * np.sin(2 * np.pi * i / rng.uniform(60, 120) + rng.uniform(0, 2 * np.pi))
    )
    z = world.params.draw_eye_height(rng) + BOB * np.sin(2 * np.pi * i / rng.uniform(20, 40))
    poses = []
    for k in range(n_frames):
        eye = np.array([xy[k, 0], xy[k, 1], z[k]])
        fwd = np.array(
            [
                np.cos(pitch[k]) * np.cos(yaw[k]),
                np.cos(pitch[k]) * np.sin(yaw[k]),
                -np.sin(pitch[k]),
            ]
        )
        poses.append(look_at(eye, eye + fwd))
    return poses
