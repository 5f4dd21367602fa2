"""A proposal started since the `one-write` patch takes the patches older than it as given
instead of asking each (ProposalWorkflow._since); only those: a later patch taken as given
would make runs started before it replay as if they had it."""

from __future__ import annotations

import inspect
import re

import pytest

from workflows.proposal import workflow as proposal
from workflows.steps import ONE_WRITE


@pytest.mark.parametrize("patch", sorted(proposal.OLDER_PATCHES))
def test_an_older_patch_is_given_since_one_write_and_asked_before(patch: str) -> None:
    assert proposal.taken_as_given(patch, one_write=True) is True
    assert proposal.taken_as_given(patch, one_write=False) is False


@pytest.mark.parametrize("patch", [ONE_WRITE, "a-later-patch"])
def test_a_patch_not_older_than_one_write_is_never_taken_as_given(patch: str) -> None:
    with pytest.raises(ValueError, match=r"workflow\.patched"):
        proposal.taken_as_given(patch, one_write=True)


def test_every_patch_the_proposal_takes_as_given_is_an_older_one() -> None:
    source = inspect.getsource(proposal.ProposalWorkflow)
    named = re.findall(r"(?:self\._since\(|taken_as_given\()([A-Z_]+)\b", source)
    given = {getattr(proposal, name) for name in named}
    assert given == proposal.OLDER_PATCHES  # each older patch is used, and only those
