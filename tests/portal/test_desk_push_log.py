"""The desk's push log names each kind of push as a person says it, also the kinds that have
no notification template to take a label from."""

from __future__ import annotations

from services.portal.desk.notices import kind_labels


def test_a_daily_digest_is_named_in_the_push_log() -> None:
    """notify's daily digest (kind "digest") has no template to take its label from."""
    labels = kind_labels([{"kind": "issue_status_changed", "label": "问题状态变化"}])
    assert labels == {"digest": "每日摘要", "issue_status_changed": "问题状态变化"}
