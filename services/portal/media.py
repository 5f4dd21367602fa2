"""Photos residents take on their phones: checked, turned upright, shrunk, stripped of EXIF
(and so of the location), stored as JPEG by one media store.

The filesystem store under the data folder is the default; production sets LINLI_PORTAL_S3_*
and the photos go to an S3-compatible bucket (AWS S3, MinIO, Ceph RGW …) through aiobotocore,
whose requests are signed with AWS Signature V4.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import uuid
from pathlib import Path
from typing import Any, Protocol

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError
from PIL import Image, ImageOps, UnidentifiedImageError

from services.portal.models import MediaSettings

log = logging.getLogger("linli.portal.media")

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


class MediaUnavailable(Exception):
    """The media store could not be reached or refused (its words are for the log)."""


class S3Media:
    """Photos as objects `<prefix><key>` in one bucket of an S3-compatible store.

    One client per process, opened by `start` and closed by `close` (the portal's cleanup
    context); path-style addressing, so a MinIO or Ceph endpoint needs no wildcard DNS."""

    def __init__(self, settings: MediaSettings) -> None:
        self.settings = settings
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def start(self) -> None:
        s = self.settings
        config = AioConfig(signature_version="s3v4", s3={"addressing_style": "path"},
                           connect_timeout=5, read_timeout=15,
                           retries={"max_attempts": 3, "mode": "standard"})
        self._client = await self._stack.enter_async_context(get_session().create_client(
            "s3", endpoint_url=s.endpoint, region_name=s.region, aws_access_key_id=s.access_key,
            aws_secret_access_key=s.secret_key, config=config))

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None

    async def put(self, key: str, data: bytes) -> None:
        try:
            await self._client.put_object(Bucket=self.settings.bucket,
                                          Key=self.settings.prefix + key, Body=data,
                                          ContentType="image/jpeg")
        except (ClientError, BotoCoreError) as exc:
            log.warning("photo %s not stored in bucket %s: %s", key, self.settings.bucket, exc)
            raise MediaUnavailable(str(exc)) from None

    async def get(self, key: str) -> bytes | None:
        if not _KEY.match(key):
            return None
        try:
            found = await self._client.get_object(Bucket=self.settings.bucket,
                                                  Key=self.settings.prefix + key)
            async with found["Body"] as body:
                data: bytes = await body.read()
                return data
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            log.warning("photo %s not read from bucket %s: %s", key, self.settings.bucket, exc)
            raise MediaUnavailable(str(exc)) from None
        except BotoCoreError as exc:
            log.warning("photo %s not read from bucket %s: %s", key, self.settings.bucket, exc)
            raise MediaUnavailable(str(exc)) from None


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
