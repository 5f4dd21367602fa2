"""The event catalogue: every event type named by the rule, documented, and the doc current."""

from __future__ import annotations

import re
from pathlib import Path

from linli.events import catalogue_markdown, load_catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_every_event_type_follows_the_naming_rule() -> None:
    catalogue = load_catalogue()
    assert "linli.directory.unit.created" in catalogue
    for name, kind in catalogue.items():
        assert re.fullmatch(r"linli\.[a-z]+\.[a-z_]+\.[a-z_]+", name)
        assert kind.description.strip(), f"{name} has no description"
        assert kind.source == f"linli/{name.split('.')[1]}"


def test_each_service_declares_only_its_own_events() -> None:
    declared = re.compile(r'event_type\(\s*"(linli\.[a-z_.]+)"')
    for events_file in [*ROOT.glob("services/*/events.py"), ROOT / "workflows" / "events.py"]:
        if not events_file.exists():
            continue
        owner = events_file.parent.name
        for name in declared.findall(events_file.read_text(encoding="utf-8")):
            assert name.split(".")[1] == owner, f"{name} is declared in {owner}/events.py"


def test_docs_events_md_is_current() -> None:
    doc = ROOT / "docs" / "events.md"
    assert doc.read_text(encoding="utf-8") == catalogue_markdown(), (
        "docs/events.md is out of date: run `.venv/bin/linli catalogue > docs/events.md`")
