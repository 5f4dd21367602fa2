#!/usr/bin/env bash
# Meetings: a council convened, then the convener's own calendar feed: an address with a secret
# that a calendar app subscribes to without a token, until the person revokes it.
set -eu
. docs/examples/env.sh
TOKEN=$($LINLI token --person demo --role party_branch --compound 阳光花园)  # 党支部书记
CID=$(curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" $DIRECTORY/v1/compounds \
      | field '["items"][0]["id"]')
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
     $MEETINGS/v1/compounds/$CID/meetings -d '{"kind": "party_masses_council",
       "title": "顶楼隔热改造议事会", "starts_at": "2027-03-05T19:30:00+08:00",
       "ends_at": "2027-03-05T21:00:00+08:00", "place": "阳光花园党群服务站",
       "convener_kind": "party_branch"}'; echo
FEED=$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" \
       -H 'Content-Type: application/json' $MEETINGS/v1/me/calendar-feeds -d '{"label": "手机日历"}')
echo "$FEED"
# the address to paste into a calendar app ("subscribe by URL"); shown once, only its hash is kept
FEED_URL=$(echo "$FEED" | field '["url"]')
curl -sS --fail-with-body "$FEED_URL"  # no Authorization header: the secret is the credential
curl -sS --fail-with-body -X DELETE -H "Authorization: Bearer $TOKEN" \
     $MEETINGS/v1/me/calendar-feeds/$(echo "$FEED" | field '["id"]'); echo
curl -sS -o /dev/null -w '%{http_code}\n' "$FEED_URL"  # 410 Gone: revoked for good
