# Sourced by every example (from the repository's root): where `make run` serves each part
# (LINLI_<NAME>_PORT moves one, as for `linli up`), this checkout's `linli`, and `field`,
# which prints one field of the JSON read from stdin (python3 is there already).
LINLI=${LINLI:-.venv/bin/linli}
DIRECTORY=http://127.0.0.1:${LINLI_DIRECTORY_PORT:-8101}
ISSUES=http://127.0.0.1:${LINLI_ISSUES_PORT:-8102}
MEETINGS=http://127.0.0.1:${LINLI_MEETINGS_PORT:-8103}
WORKFLOWS=http://127.0.0.1:${LINLI_WORKFLOWS_PORT:-8106}
field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
