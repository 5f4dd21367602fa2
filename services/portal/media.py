"""Photos residents take on their phones: checked, turned upright, shrunk, stripped of EXIF
(and so of the location), stored as JPEG by one media store.

The filesystem store under the data folder is the default; production may put any store with
`put`/`get` behind the same interface (an S3-compatible bucket is the intended one).
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF"}
LONGEST_SIDE = 1600
_KEY = re.compile(r"^[0-9a-f]{32}\.jpg$")
Image.MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded


class PhotoError(ValueError):
    """The upload is not a photo we take (type, size, or a broken file)."""


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...


class FileMedia:
    """Photos as files under one folder (default `<LINLI_DATA_DIR>/media`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, key: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{key}.part"
        tmp.write_bytes(data)
        tmp.replace(self.root / key)  # readers never see half a file

    async def get(self, key: str) -> bytes | None:
        if not _KEY.match(key):
            return None
        path = self.root / key
        return path.read_bytes() if path.is_file() else None


def clean_photo(data: bytes, *, max_bytes: int) -> bytes:
    """A JPEG of at most LONGEST_SIDE px with no metadata; PhotoError for anything else."""
    if len(data) > max_bytes:
        raise PhotoError(f"照片不能超过 {max_bytes // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED:
                raise PhotoError("只能上传 JPEG、PNG、WebP 或 GIF 格式的照片")
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise PhotoError("无法识别的图片文件, 请换一张照片") from None
    out = io.BytesIO()
    # a fresh image carries no EXIF, GPS or XMP block: only the pixels are written
    rgb.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


async def store_photo(media: MediaStore, data: bytes, *, max_bytes: int) -> str:
    """Clean and store a photo; returns its key."""
    cleaned = clean_photo(data, max_bytes=max_bytes)
    key = f"{uuid.uuid4().hex}.jpg"
    await media.put(key, cleaned)
    return key
