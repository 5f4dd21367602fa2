"""CloudEvents 1.0 envelope and the catalogue of every Linli event type (DESIGN.md §3)."""

from __future__ import annotations

import importlib
import pkgutil
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T", bound=msgspec.Struct)
_TYPE_NAME = re.compile(r"^linli\.([a-z]+)\.([a-z_]+)\.([a-z_]+)$")


class CloudEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope, JSON structured mode; `type` is also the NATS subject."""

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: str
    datacontenttype: str = "application/json"
    compoundid: str | None = None
    data: Any = None


@dataclass(frozen=True)
class EventType(Generic[T]):
    """One entry of the catalogue: name, payload schema and what it means."""

    name: str
    data: type[T]
    description: str

    @property
    def service(self) -> str:
        return self.name.split(".")[1]

    @property
    def source(self) -> str:
        return f"linli/{self.service}"

    def new(self, *, subject: str, data: T, compound_id: str | None = None) -> CloudEvent:
        """A fresh event of this type with a new id and the current time."""
        return CloudEvent(
            id=str(uuid.uuid4()),
            source=self.source,
            type=self.name,
            subject=str(subject),
            time=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            compoundid=compound_id,
            data=msgspec.to_builtins(data),
        )

    def parse(self, event: CloudEvent) -> T:
        """The event's data as this type's payload struct (raises on a schema mismatch)."""
        return msgspec.convert(event.data, self.data)


CATALOGUE: dict[str, EventType[Any]] = {}


def event_type(name: str, data: type[T], description: str) -> EventType[T]:
    """Declare an event type and list it in the catalogue."""
    if not _TYPE_NAME.match(name):
        raise ValueError(f"event type {name!r} must read linli.<service>.<entity>.<verb>")
    known = CATALOGUE.get(name)
    if known is not None and known.data is not data:
        raise ValueError(f"event type {name} declared twice with different payloads")
    declared = EventType(name=name, data=data, description=description)
    CATALOGUE[name] = declared
    return declared


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(CloudEvent)


def encode(event: CloudEvent) -> bytes:
    """The event as CloudEvents JSON bytes."""
    return _encoder.encode(event)


def decode(payload: bytes) -> CloudEvent:
    """Parse CloudEvents JSON bytes (raises msgspec.ValidationError/DecodeError)."""
    return _decoder.decode(payload)


def load_catalogue() -> dict[str, EventType[Any]]:
    """Import every service's events.py so the catalogue is complete."""
    import services

    for module in pkgutil.iter_modules(services.__path__):
        try:
            importlib.import_module(f"services.{module.name}.events")
        except ModuleNotFoundError as exc:
            if exc.name != f"services.{module.name}.events":
                raise
    return dict(sorted(CATALOGUE.items()))


def catalogue_document() -> dict[str, Any]:
    """The catalogue as JSON Schema: one entry per event type with its payload schema."""
    types = load_catalogue()
    schemas, components = msgspec.json.schema_components(
        [t.data for t in types.values()], ref_template="#/$defs/{name}"
    )
    return {
        "events": {
            name: {"description": t.description, "source": t.source, "data": schema}
            for (name, t), schema in zip(types.items(), schemas, strict=True)
        },
        "$defs": components,
    }
