from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from evalkit import IMAGE_TYPE, ROWS, bench_table, png

from spar3d.bench.eval.dataset import bench_revision, load_bench


def test_single_file_keeps_columns_and_image_bytes(bench):
    samples = load_bench(bench)
    assert [s.id for s in samples] == list(range(len(ROWS)))
    assert [(s.task, s.question, s.answer) for s in samples] == [r[:3] for r in ROWS]
    assert [len(s.images) for s in samples] == [r[3] for r in ROWS]
    # Image bytes come back exactly as written (row 1 image 1 has colour (20, 60, 7)).
    assert samples[1].images[1] == png((20, 60, 7))
    assert samples[0].extra["source"] == "scannet"
    assert set(samples[0].extra) == {"img_type", "format_type", "source"}


def test_folder_of_shards(tmp_path):
    table = bench_table()
    pq.write_table(table.slice(0, 3), tmp_path / "test-00000-of-00002.parquet")
    pq.write_table(table.slice(3), tmp_path / "test-00001-of-00002.parquet")
    samples = load_bench(tmp_path)
    assert [s.id for s in samples] == list(range(len(ROWS)))


def test_errors_name_the_file(tmp_path):
    table = bench_table().drop_columns(["answer"])
    path = tmp_path / "b.parquet"
    pq.write_table(table, path)
    with pytest.raises(ValueError, match=r"b\.parquet row 0: missing column\(s\) answer"):
        load_bench(path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no \\*.parquet"):
        load_bench(empty)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_bench(tmp_path / "missing.parquet")


def test_duplicate_ids_rejected(tmp_path):
    pq.write_table(bench_table(ROWS[:2]), tmp_path / "a.parquet")
    pq.write_table(bench_table(ROWS[:1]), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="duplicate id 0"):
        load_bench(tmp_path)


def test_revision_follows_content(tmp_path):
    a = tmp_path / "a" / "bench.parquet"
    b = tmp_path / "b" / "bench.parquet"
    a.parent.mkdir()
    b.parent.mkdir()
    pq.write_table(bench_table(), a)
    pq.write_table(bench_table(), b)
    assert bench_revision(a) == bench_revision(b)
    pq.write_table(bench_table(first_id=100), b)
    assert bench_revision(a) != bench_revision(b)


def test_images_stored_by_path_are_read_next_to_the_file(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(png((1, 2, 3)))
    table = bench_table(ROWS[:1])
    image = pa.array([[{"bytes": None, "path": "imgs/a.png"}]], type=IMAGE_TYPE)
    table = table.set_column(table.schema.get_field_index("image"), "image", image)
    pq.write_table(table, tmp_path / "b.parquet")
    (sample,) = load_bench(tmp_path / "b.parquet")
    assert sample.images == (png((1, 2, 3)),)
    (tmp_path / "imgs" / "a.png").unlink()
    with pytest.raises(ValueError, match=r"row 0 image 0: image has neither bytes"):
        load_bench(tmp_path / "b.parquet")
