"""JSON log lines on stderr, one per event, with whatever `extra` fields were given."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import msgspec

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        try:  # msgspec: the same JSON (UTF-8 as is) at a fraction of json.dumps' cost per line
            return _encode(entry).decode("utf-8")
        except (TypeError, msgspec.EncodeError):  # a key that is not text: the slow way
            return json.dumps(entry, ensure_ascii=False, default=str)


def _text(value: object) -> str:
    return str(value)


_encode = msgspec.json.Encoder(enc_hook=_text).encode


def level_of(name: str) -> int:
    """A level by its name (debug, info, warning, …); INFO for a name logging does not know."""
    return logging.getLevelNamesMapping().get(name.upper(), logging.INFO)


def configure(service: str, level: int = logging.INFO) -> None:
    """Route every logger to one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("asyncio", "nats", "temporalio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
