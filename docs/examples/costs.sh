#!/usr/bin/env bash
# Cost sharing: the month's pump readings from a CSV, the plans compared flat by flat.
set -eu
. docs/examples/env.sh
TOKEN=$($LINLI token --person demo --role property --compound 南山归侨安置小区)  # 物业经理
CID=$(curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $DIRECTORY/v1/compounds \
      | field '["items"][0]["id"]')
# the demo's 二次供水加压泵电费, shared by floors 4 to 6 (谁受益谁承担)
COST=$(curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $MEETINGS/v1/compounds/$CID/costs \
       | field '["items"][0]["id"]')
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv' \
     --data-binary @docs/examples/pump-readings.csv \
     $MEETINGS/v1/compounds/$CID/costs/$COST/readings/import; echo
# each flat's share of 412.00 元 under every plan, and its difference from the usage plan
curl -sS --fail-with-body -G -H "Authorization: Bearer $TOKEN" --data-urlencode total_fen=41200 \
     --data-urlencode period=2026-11 --data-urlencode baseline=按用水量 \
     $MEETINGS/v1/compounds/$CID/costs/$COST/compare; echo
