#!/usr/bin/env bash
# Issues: a report through Open311 GeoReport v2, then the look-alikes a neighbour is offered.
set -eu
. docs/examples/env.sh
TOKEN=$($LINLI token --person demo --role owner --compound 阳光花园)  # the owner of 1号楼 102
CID=$(curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $DIRECTORY/v1/compounds \
      | field '["items"][0]["id"]')
curl -sS --fail-with-body "$ISSUES/open311/v2/services.json?jurisdiction_id=$CID"; echo
# the lift's required question (attribute "trapped": is someone stuck inside?)
curl -sS --fail-with-body "$ISSUES/open311/v2/services/lift.json?jurisdiction_id=$CID"; echo
SRID=$(curl -sS --fail-with-body -X POST "$ISSUES/open311/v2/requests.json" \
     --data-urlencode "api_key=$TOKEN" --data-urlencode "jurisdiction_id=$CID" \
     --data-urlencode "service_code=lift" --data-urlencode "address_string=lift" \
     --data-urlencode "attribute[trapped]=no" \
     --data-urlencode "description=3号楼电梯停在5楼不动了" | field '[0]["service_request_id"]')
curl -sS --fail-with-body "$ISSUES/open311/v2/requests/$SRID.json?jurisdiction_id=$CID"; echo
# a neighbour about to report the same is offered the open look-alikes to co-sign instead
curl -sS --fail-with-body -G -H "Authorization: Bearer $TOKEN" \
     --data-urlencode category=lift --data-urlencode title=3号楼电梯停了 \
     $ISSUES/v1/compounds/$CID/issues/similar; echo
