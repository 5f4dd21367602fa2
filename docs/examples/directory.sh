#!/usr/bin/env bash
# The directory: a demo person's token, their compound, its owners' roll, units from a CSV.
set -eu
. docs/examples/env.sh
TOKEN=$($LINLI token --person demo --role community --compound 阳光花园)  # 黄建国, 社区主任
curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $DIRECTORY/v1/compounds; echo
CID=$(curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $DIRECTORY/v1/compounds \
      | field '["items"][0]["id"]')
curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $DIRECTORY/v1/compounds/$CID/roll; echo
# all lines or none: a bad line is named in a 422 and nothing is written (run this script
# again and every line is one: 4号楼 has these units already)
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv' \
     --data-binary @docs/examples/units.csv $DIRECTORY/v1/compounds/$CID/imports/units; echo
