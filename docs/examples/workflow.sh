#!/usr/bin/env bash
# Workflows: a proposal drafted in meetings, run by a ProposalWorkflow, revised, extended,
# cancelled. Staff of the compound (here the party branch, the convener) or app scope
# workflows:start.
set -eu
. docs/examples/env.sh
TOKEN=$($LINLI token --person demo --role party_branch --compound 阳光花园)  # 党支部书记
CID=$(curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $DIRECTORY/v1/compounds \
      | field '["items"][0]["id"]')
PID=$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" \
     -H 'Content-Type: application/json' $MEETINGS/v1/compounds/$CID/proposals -d '{
       "title": "2号楼电梯更新", "matter": "art278_5", "funding": "maintenance_fund",
       "budget_fen": 36000000, "body": "2号楼电梯使用满十五年, 使用维修资金整体更新。"}' \
     | field '["id"]')
W=$WORKFLOWS/v1/workflows/proposal-$PID
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
     $WORKFLOWS/v1/workflows -d '{"type": "proposal", "key": "lift-'$PID'",
       "input": {"compound_id": "'$CID'", "proposal_id": "'$PID'", "convener": "阳光花园党支部"}}'
echo
# the consultation opens in a moment (the workflow asks meetings); wait for it, a minute at most
for _ in $(seq 120); do
  STEP=$(curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $W | field '["state"]["step"]')
  [ "$STEP" = consultation ] && break
  sleep 0.5
done
curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $W; echo
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
     $W/updates/revise -d '{"body": "2号楼电梯整体更新, 加装能量回馈装置。", "change_summary": "采纳意见: 加装能量回馈装置"}'
echo
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
     $W/updates/extend_consultation -d '{"reason": "业主要求延长一周", "extend_seconds": 604800}'
echo
# answers at once with the reason recorded ("status": "running"); the run then withdraws the
# proposal in meetings and ends: a moment later `curl … $W` says completed, step cancelled
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
     $W/cancel -d '{"reason": "业主大会决定暂缓"}'
echo
