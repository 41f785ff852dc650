#!/usr/bin/env bash
# The installed package, not the checkout: build the sdist and the wheel (the wheel from the sdist, as
# `python -m build` does), install the wheel into a fresh venv in an empty folder outside the checkout and run every
# kind of command from there, with no PYTHONPATH. A template, font or static file missing from the package data
# fails here. The register and this computer's id live in the temporary folder, never the machine's own.
# Run by .ci/run with the CI venv active (for `build`); `bash .ci/installed.sh` alone works too.
set -euo pipefail
checkout="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "installed.sh: $*" >&2; exit 1; }

python -m pip install --quiet build
# From a copy of the files git knows (tracked, or new and not ignored): an egg-info left by `pip install .` in the
# checkout lists every file that was ever package data, and would put a file back that pyproject.toml dropped.
mkdir "$work/src"
git -C "$checkout" ls-files -z --cached --others --exclude-standard \
    | (cd "$checkout" && xargs -0 tar -cf - --ignore-failed-read) | tar -xf - -C "$work/src"
python -m build --outdir "$work/dist" "$work/src" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
wheels=("$work"/dist/*.whl)
sdists=("$work"/dist/*.tar.gz)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] && [ ${#sdists[@]} -eq 1 ] && [ -f "${sdists[0]}" ] \
    || fail "expected one wheel and one sdist in $work/dist"

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "${wheels[0]}"
unset PYTHONPATH
export ASR_BATCH_REGISTER="$work/register.sqlite" ASR_BATCH_CONFIG_DIR="$work/config"
bin="$work/venv/bin"
mkdir "$work/kantoor"
cd "$work/kantoor"  # an empty folder: nothing of the checkout can be imported from here

"$bin/python" - "$checkout" <<'PY'
import sys
from pathlib import Path

import batch

where = Path(batch.__file__).resolve()
assert Path(sys.argv[1]) not in where.parents, f"batch imported from the checkout: {where}"
print(f"installed.sh: batch from {where.parent}")
PY

"$bin/asr-batch" template werkgevers.xlsx
[ -f werkgevers.xlsx ] || fail "template wrote no werkgevers.xlsx"

# One valid row, filled in as a clerk would: the office sheet's values, one werkgever.
"$bin/python" - <<'PY'
import openpyxl

book = openpyxl.load_workbook("werkgevers.xlsx")
office = book["Salarisverwerker"]
values = {"Naam salarisverwerker": "Salarisbureau Installatie", "Contactpersoon": "Tessa Testmans",
          "E-mailadres": "tessa@installatie.example.nl", "Telefoonnummer": "030 123 45 67",
          "Client ID": "ci-client-5f2a9c", "Client Secret": "ci-S3cret-7781"}
for row in office.iter_rows(min_row=2):
    if row[0].value in values:
        row[1].value = values.pop(row[0].value)
assert not values, f"office sheet lacks {sorted(values)}"
werkgevers = book["Werkgevers"]
headers = [cell.value for cell in werkgevers[1]]
row = {"Werkgeverscode": "1001", "Naam werkgever": "Bakkerij De Korenaar B.V.", "DGA in verloning": "Nee",
       "13e maand": "Ja", "Verloning": "Maandelijks"}
for header, value in row.items():
    werkgevers.cell(row=2, column=headers.index(header) + 1, value=value)
book.save("werkgevers.xlsx")
PY

"$bin/asr-batch" process werkgevers.xlsx --output uit
ls uit/aanmeldingen/*1001*.html uit/aanmeldingen/*1001*.pdf uit/overzicht.html >/dev/null \
    || fail "process made no HTML and PDF document for 1001"
"$bin/asr-batch" status | tee status.txt
grep -q 1001 status.txt || fail "status does not show 1001"
"$bin/asr-batch" mark submitted 1001
"$bin/asr-batch" status --json | "$bin/python" -c '
import json, sys
data = json.load(sys.stdin)
assert "ci-S3cret-7781" not in json.dumps(data), "the secret reached status --json"
assert data["counts"]["submitted"] == 1, data["counts"]
print("installed.sh: status --json after mark:", json.dumps(data)[:200])'
"$bin/asr-batch" purge --dry-run

# serve: the first line is the address with its token, on the server's own name under .localhost; the page must
# come from the installed templates.
"$bin/asr-batch" serve --no-browser >serve.out 2>serve.err &
server=$!
for _ in $(seq 100); do
    [ -s serve.out ] && break
    kill -0 "$server" 2>/dev/null || { cat serve.err >&2; fail "serve stopped before printing its address"; }
    sleep 0.2
done
url="$(head -n 1 serve.out)"
[ -n "$url" ] || fail "serve printed no address within 20 s"
"$bin/python" - "$url" <<'PY'
import http.client
import re
import sys
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlsplit

url = sys.argv[1]
parts = urlsplit(url)
assert re.fullmatch(r"asr-[0-9a-f]{32}\.localhost", parts.hostname or ""), url


class Loopback(http.client.HTTPConnection):
    """A name under .localhost is this computer, as browsers resolve it (Python's resolver may not): connect to
    127.0.0.1, keep the name in the Host header."""

    def connect(self):
        name, self.host = self.host, "127.0.0.1"
        try:
            super().connect()
        finally:
            self.host = name


class LoopbackHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(Loopback, req)


opener = urllib.request.build_opener(LoopbackHandler, urllib.request.HTTPCookieProcessor(CookieJar()))
with opener.open(url, timeout=30) as response:
    assert response.status == 200, response.status
    page = response.read().decode("utf-8")
assert "asr-batch" in page, page[:500]
try:  # by 127.0.0.1 the same token gets nothing: the cookie would be sent to every port there
    opener.open(url.replace(parts.hostname, "127.0.0.1"), timeout=30)
    raise AssertionError("the page answered on 127.0.0.1")
except urllib.error.HTTPError as error:
    assert error.code == 403, error.code
print("installed.sh: serve's page has", len(page), "characters")
PY
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=""
[ "$status" -eq 0 ] || { cat serve.err >&2; fail "serve exited $status on SIGTERM, not 0"; }
echo "installed.sh: the installed package works outside the checkout"
