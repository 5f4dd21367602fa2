"""The general meeting's adoption of the rules of procedure (议事规则) and the management
statute (管理规约): the founding goes on to the officers and the registration only once both
are adopted; a rejected one goes back to the preparatory group, revised, and is voted again
(or the street office cancels). A mixin of CommitteeFoundingWorkflow; runs in the sandbox."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.committee.types as t
    from workflows.steps import Steps

DOCUMENTS = {"rules": "议事规则", "statute": "管理规约"}


class Adoptions:
    """With the helpers every step of the workflow uses (who acted, the step an update needs)."""

    steps: Steps
    s: t.CommitteeState
    resubmission: t.Resubmission | None

    @staticmethod
    def _by(source: object) -> str:
        return str(getattr(source, "by", "") or "")

    def _at(self, step: str, what: str) -> None:
        if self.steps.current != step:
            raise ValueError(f"当前阶段 {self.steps.current or '未开始'} 不能{what}")

    async def _adopted(self) -> str:
        """The committee goes on only once the general meeting adopted the rules of procedure
        and the statute; a rejected one goes back to the group, revised, and is voted again
        (or the street office cancels). The outcome of the step it leaves."""
        left = "elected"
        while True:
            await self.steps.wait(lambda: set(DOCUMENTS) <= self.s.adoptions.keys())
            failed = [k for k in DOCUMENTS if self.s.adoptions[k] != "passed"]
            if not failed:
                return left if left == "elected" else "adopted"
            names = "、".join(DOCUMENTS[k] for k in failed)
            self.resubmission = None
            await self.steps.move(t.ADOPTION_FAILED, outcome=left if left == "elected" else
                                  "rejected", note=f"{names}未获业主大会通过; 下一步: 筹备组修改后"
                                  "提请业主大会重新表决, 通过前不推选主任、不备案")
            await self.steps.wait(lambda: self.resubmission is not None)
            assert self.resubmission is not None
            for key in failed:
                setattr(self.s, f"{key}_proposal_id",
                        getattr(self.resubmission, f"{key}_proposal_id"))
                del self.s.adoptions[key]
            await self.steps.move(t.ADOPTION_VOTE, outcome="resubmitted",
                                  by=self._by(self.resubmission), note=f"{names}提请业主大会重新表决")
            left = "resubmitted"

    @workflow.update
    def resubmit(self, resubmission: t.Resubmission) -> str:
        self.resubmission = resubmission
        return t.ADOPTION_VOTE

    @resubmit.validator
    def _check_resubmit(self, resubmission: t.Resubmission) -> None:
        self._at(t.ADOPTION_FAILED, "重新提请表决")
        failed = [k for k in DOCUMENTS if self.s.adoptions.get(k) != "passed"]
        missing = [DOCUMENTS[k] for k in failed if not getattr(resubmission, f"{k}_proposal_id")]
        if missing or self.resubmission is not None:
            raise ValueError(f"须附重新表决的{'、'.join(missing)}议案" if missing
                             else "已经重新提请表决")
