"""The portal's photos in an S3-compatible bucket, against a real S3 server over HTTP: moto's
server (`moto_server`, from PyPI) in its own process, with request authentication switched on,
so every request must carry a valid AWS Signature V4 of an access key the server knows."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiobotocore.session import get_session
from PIL import Image

from services.portal.app import media_store
from services.portal.media import FileMedia, MediaUnavailable, S3Media, store_photo
from services.portal.models import MediaSettings, PortalConfig

BUCKET = "linli-photos"
# the first requests go unauthenticated (they create the user and its key); every later one
# must be signed with a key of that user
SETUP_REQUESTS = 4


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "moto_server exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)  # a bounded wait for the server's port, not an ordering of the test
    raise AssertionError("moto_server did not listen within 60 s")


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS), "PATH": "/usr/bin:/bin",
           "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
    server = Path(sys.executable).parent / "moto_server"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _client(endpoint: str, access: str, secret: str, service: str = "s3") -> object:
    return get_session().create_client(service, endpoint_url=endpoint, region_name="us-east-1",
                                       aws_access_key_id=access, aws_secret_access_key=secret)


@pytest.fixture(scope="module")
async def s3(moto: str) -> AsyncIterator[S3Server]:
    """An IAM user allowed everything on S3, and the bucket, made with that user's key."""
    async with _client(moto, "setup", "setup", "iam") as iam:  # type: ignore[attr-defined]
        await iam.create_user(UserName="portal")
        await iam.put_user_policy(UserName="portal", PolicyName="photos", PolicyDocument=json.dumps(
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        key = (await iam.create_access_key(UserName="portal"))["AccessKey"]
    server = S3Server(moto, key["AccessKeyId"], key["SecretAccessKey"])
    async with _client(moto, server.access_key, server.secret_key) as admin:  # type: ignore[attr-defined]
        await admin.create_bucket(Bucket=BUCKET)
    yield server


def _settings(s3: S3Server, **kw: str) -> MediaSettings:
    base = dict(bucket=BUCKET, access_key=s3.access_key, secret_key=s3.secret_key,
                endpoint=s3.endpoint)
    return MediaSettings(**{**base, **kw})


@pytest.fixture
async def store(s3: S3Server) -> AsyncIterator[S3Media]:
    media = S3Media(_settings(s3))
    await media.start()
    yield media
    await media.close()


def _photo_with_location() -> bytes:
    image = Image.new("RGB", (3000, 2000), (200, 80, 40))
    exif = Image.Exif()
    exif[0x8825] = {2: (31.0, 14.0, 0.0), 4: (121.0, 28.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def test_a_photo_goes_into_the_bucket_cleaned_and_comes_back(store: S3Media,
                                                                  s3: S3Server) -> None:
    key = await store_photo(store, _photo_with_location(), max_bytes=8 * 1024 * 1024)
    data = await store.get(key)
    assert data is not None
    with Image.open(io.BytesIO(data)) as kept:
        assert kept.format == "JPEG" and max(kept.size) == 1600
        assert not kept.getexif()  # no EXIF, so no location
    # it is an object under the prefix in the bucket, as the store's own client sees it
    async with _client(s3.endpoint, s3.access_key, s3.secret_key) as admin:  # type: ignore[attr-defined]
        head = await admin.head_object(Bucket=BUCKET, Key=f"media/{key}")
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == len(data)


async def test_a_missing_or_malformed_key_is_none_and_nothing_outside_the_prefix_is_read(
    store: S3Media, s3: S3Server
) -> None:
    assert await store.get(f"{uuid.uuid4().hex}.jpg") is None
    async with _client(s3.endpoint, s3.access_key, s3.secret_key) as admin:  # type: ignore[attr-defined]
        await admin.put_object(Bucket=BUCKET, Key="secret.txt", Body=b"not a photo")
    for key in ("../secret.txt", "secret.txt", "media/../secret.txt", ""):
        assert await store.get(key) is None


async def test_a_wrong_secret_is_refused_by_the_server_and_said_as_unavailable(s3: S3Server) -> None:
    wrong = S3Media(_settings(s3, secret_key="not-the-secret"))
    await wrong.start()
    key = f"{uuid.uuid4().hex}.jpg"
    try:
        with pytest.raises(MediaUnavailable, match="SignatureDoesNotMatch"):
            await wrong.put(key, b"\xff\xd8\xff")
        with pytest.raises(MediaUnavailable, match="SignatureDoesNotMatch"):
            await wrong.get(key)
    finally:
        await wrong.close()
    # the refused request wrote nothing
    async with _client(s3.endpoint, s3.access_key, s3.secret_key) as admin:  # type: ignore[attr-defined]
        listed = await admin.list_objects_v2(Bucket=BUCKET, Prefix=f"media/{key}")
    assert listed.get("KeyCount", 0) == 0


def test_the_settings_choose_the_store(tmp_path: Path) -> None:
    env = {"LINLI_PORTAL_S3_BUCKET": "photos", "LINLI_PORTAL_S3_ACCESS_KEY": "AK",
           "LINLI_PORTAL_S3_SECRET_KEY": "SK", "LINLI_PORTAL_S3_ENDPOINT": "http://minio:9000"}
    chosen = media_store(PortalConfig.from_env(env), tmp_path)
    assert isinstance(chosen, S3Media)
    assert chosen.settings == MediaSettings(bucket="photos", access_key="AK", secret_key="SK",
                                            endpoint="http://minio:9000")
    assert isinstance(media_store(PortalConfig.from_env({}), tmp_path), FileMedia)
    with pytest.raises(ValueError, match="LINLI_PORTAL_S3_SECRET_KEY"):
        PortalConfig.from_env({"LINLI_PORTAL_S3_BUCKET": "photos"})
