"""Pure rules of notify: templates and their placeholders, quiet hours, backoff, labels."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify import labels
from services.notify.consumers import ROUTING
from services.notify.rules import CST, RETRY_SCHEDULE, quiet_until, retry_delay
from services.notify.templates import KINDS, TemplateError, check, render

UTC = dt.UTC


def test_every_default_template_uses_only_its_own_placeholders_and_reads_chinese() -> None:
    for kind, k in KINDS.items():
        check(kind, k.title)
        check(kind, k.body)
        used = set(re.findall(r"\{(\w+)\}", k.title + k.body))
        assert used <= k.placeholders, kind
        assert re.search(r"[\u4e00-\u9fff]", k.title + k.body), kind


def test_a_placeholder_the_kind_lacks_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(TemplateError) as caught:
        check("issue_commented", "{who}回复了{reporter}")
    assert "{reporter}" in str(caught.value) and "title" in str(caught.value)
    check("issue_commented", "{title}: 有新回复 (no placeholders is fine too) {{")


def test_render_fills_known_values_and_never_raises() -> None:
    assert render("问题“{title}”{to_status}", {"title": "灯坏了", "to_status": "已受理"}) == \
        "问题“灯坏了”已受理"
    assert render("{missing} {title}", {"title": "x"}) == "{missing} x"
    assert render("{ not a placeholder }", {}) == "{ not a placeholder }"


@given(st.text(max_size=200), st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                                              st.text(max_size=20)))
def test_render_is_total(text: str, values: dict[str, str]) -> None:
    assert isinstance(render(text, values), str)


def _cst(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 29, hour, minute, tzinfo=CST)


def test_quiet_hours_across_midnight_end_the_next_morning() -> None:
    night, morning = dt.time(22, 0), dt.time(7, 0)
    assert quiet_until(_cst(23, 30), night, morning) == _cst(7).replace(day=30).astimezone(UTC)
    assert quiet_until(_cst(6, 59), night, morning) == _cst(7).astimezone(UTC)
    assert quiet_until(_cst(7, 0), night, morning) is None
    assert quiet_until(_cst(21, 59), night, morning) is None
    assert quiet_until(_cst(12), None, None) is None


def test_quiet_hours_within_a_day() -> None:
    nap_start, nap_end = dt.time(12, 0), dt.time(14, 0)
    assert quiet_until(_cst(13), nap_start, nap_end) == _cst(14).astimezone(UTC)
    assert quiet_until(_cst(14), nap_start, nap_end) is None
    assert quiet_until(_cst(11, 59), nap_start, nap_end) is None


@given(st.datetimes(timezones=st.just(UTC)), st.times(), st.times())
def test_quiet_hours_never_end_in_the_past_nor_more_than_a_day_later(
    now: dt.datetime, start: dt.time, end: dt.time
) -> None:
    until = quiet_until(now, start, end)
    if until is not None:
        assert now < until <= now + dt.timedelta(days=1)


def test_retries_spread_over_about_a_day_then_repeat_the_last_step() -> None:
    waits = [retry_delay(n) for n in range(1, len(RETRY_SCHEDULE) + 1)]
    assert waits[0] == 5 and waits == sorted(waits)  # a blip first, then hours apart
    assert 20 * 3600 < sum(waits) < 26 * 3600
    assert retry_delay(50) == RETRY_SCHEDULE[-1] and retry_delay(2, (1.0, 2.0)) == 2.0


def test_labels_and_times_read_as_people_expect() -> None:
    assert labels.when("2026-12-01T11:00:00Z") == "2026年12月1日 19:00"
    assert labels.when(dt.datetime(2026, 1, 2, 0, 5, tzinfo=UTC)) == "2026年1月2日 08:05"
    assert labels.when(None) == "未定" and labels.when("下周") == "下周"
    assert labels.yuan(123456) == "1234.56" and labels.yuan(5) == "0.05"
    assert labels.label(labels.ISSUE_STATUS, "accepted") == "已受理"
    assert labels.label(labels.ISSUE_STATUS, "new_status") == "new_status"


def test_every_routed_event_has_a_distinct_durable() -> None:
    names = [name for name, _, _ in ROUTING]
    assert len(names) == len(set(names))
    assert {k.name for _, k, _ in ROUTING} >= {
        "linli.workflows.proposal.reminder_due", "linli.workflows.proposal.step_changed",
        "linli.workflows.proposal.milestone_overdue", "linli.workflows.issue_follow_up.reminder_due",
        "linli.issues.issue.escalated", "linli.meetings.bills.issued"}


def test_internal_webhook_targets_are_recognised() -> None:
    from services.notify.targets import BlockedTarget, check_addresses, is_internal, normalise

    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.8", "172.16.0.1", "169.254.169.254",
                    "::1", "0.0.0.0", "fd00::1", "100.64.0.1", "::ffff:127.0.0.1",
                    "64:ff9b::a9fe:a9fe", "224.0.0.1", "fe80::1%eth0"):
        assert is_internal(address), address
    for address in ("8.8.8.8", "2400:3200::1", "::ffff:8.8.8.8"):
        assert not is_internal(address), address
    with pytest.raises(BlockedTarget):
        check_addresses("mixed.example.cn", ["8.8.8.8", "10.0.0.1"])  # one inward is enough
    # what the HTTP client will connect to, not what the text looks like
    assert normalise("http://１２７.０.０.１:8080/x") == ("127.0.0.1", 8080)
    assert normalise("http://127。0。0。1/x") == ("127.0.0.1", 80)
    assert normalise("https://oapi.dingtalk.com/robot/send?access_token=x") == (
        "oapi.dingtalk.com", 443)
    for url in ("http://2130706433/", "http://0x7f.1/", "http://127.1/", "ftp://example.cn/"):
        with pytest.raises(BlockedTarget):
            normalise(url)


def test_every_outcome_the_proposal_workflow_publishes_reads_chinese() -> None:
    """A step's outcome is shown on the notice board: no English code may reach residents."""
    source = (Path(__file__).parents[2] / "workflows" / "proposal" / "workflow.py").read_text()
    published = set(re.findall(r'outcome\s*=\s*"([a-z_]+)"', source))
    published |= set(re.findall(r'step_outcome = "([a-z_]+)" if .* else "([a-z_]+)"', source)[0])
    assert {"closed", "revise", "started", "approved", "abandon"} <= published
    assert published <= set(labels.OUTCOMES)
    assert all(re.search(r"[\u4e00-\u9fff]", labels.OUTCOMES[o]) for o in published)
