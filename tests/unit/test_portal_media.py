"""Photos residents upload: only images, shrunk, turned upright, with no EXIF left (no location)."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from services.portal.media import LONGEST_SIDE, FileMedia, PhotoError, clean_photo, store_photo


def jpeg(size: tuple[int, int], *, gps: bool = True, orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (24.0, 56.0, 30.0), 3: "E", 4: (118.0, 36.0, 0.0)}
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    Image.new("RGB", size, (10, 200, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_phone_photo_is_shrunk_and_loses_its_location() -> None:
    raw = jpeg((4000, 3000))
    with Image.open(io.BytesIO(raw)) as before:
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    with Image.open(io.BytesIO(clean_photo(raw, max_bytes=10**7))) as after:
        assert after.format == "JPEG" and after.size == (LONGEST_SIDE, 1200)
        assert dict(after.getexif()) == {} and "exif" not in after.info


def test_a_sideways_photo_is_turned_upright_before_its_orientation_tag_is_dropped() -> None:
    raw = jpeg((400, 300), gps=False, orientation=6)  # "rotate 90° clockwise to view"
    with Image.open(io.BytesIO(clean_photo(raw, max_bytes=10**7))) as after:
        assert after.size == (300, 400)


@pytest.mark.parametrize("data, message", [
    (b"#!/bin/sh\necho hi\n", "无法识别"),
    (b"%PDF-1.7\n", "无法识别"),
    (b"\xff" * 2000, "不能超过"),
])
def test_anything_but_a_photo_of_allowed_size_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(PhotoError, match=message):
        clean_photo(data, max_bytes=1000 if message == "不能超过" else 10**7)


def test_other_image_formats_are_refused_with_the_allowed_ones_named() -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "BMP")
    with pytest.raises(PhotoError, match="JPEG、PNG、WebP 或 GIF"):
        clean_photo(out.getvalue(), max_bytes=10**7)


async def test_the_file_store_keeps_photos_under_keys_it_made(tmp_path: object) -> None:
    from pathlib import Path
    media = FileMedia(Path(str(tmp_path)))
    key = await store_photo(media, jpeg((100, 100)), max_bytes=10**7)
    assert (await media.get(key) or b"")[:2] == b"\xff\xd8"
    assert await media.get("../../etc/passwd") is None
    assert await media.get("0" * 32 + ".jpg") is None
