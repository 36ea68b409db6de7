#!/usr/bin/env bash
# t-batch-validate.sh - `mailstage batch validate` on crafted CSV files:
# every file check (exit 2 and a message naming what is wrong) and every
# row check (exit 1, the row listed in validation.csv with its reason).
# Needs no server.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"

harness_init
harness_timeout 120
harness_need_mailstage
cd "$T"

# validate NAME WANT-STATUS NEEDLE: run validate on NAME, check status and output.
validate() {
	local out rc=0
	chmod 600 "$1"
	out=$("$MAILSTAGE" batch validate "$1" --dir "$T/v-$1" 2>&1) || rc=$?
	assert_eq "$rc" "$2" "$1: exit status $2"
	assert_contains "$out" "$3" "$1: says '$3'"
}

hdr='EmailAddress,UserName,Password'

# ---- file checks (exit 2)
: >empty.csv
validate empty.csv 2 "the file is empty"

printf 'EmailAddress;UserName;Password\r\na@example.org;a;p\r\n' >semicolons.csv
validate semicolons.csv 2 "separated by semicolons"

{ echo "$hdr"; seq 1 50001 | awk '{ printf "u%d@example.org,u%d,p%d\n", $1, $1, $1 }'; } >rows50001.csv
validate rows50001.csv 2 "more than 50,000 data rows"

{ echo "$hdr"; seq 1 50000 | awk '{ printf "u%d@example.org,u%d,p%d\n", $1, $1, $1 }'; } >rows50000.csv
validate rows50000.csv 0 "50000 rows: 50000 valid, 0 refused"

# exactly 10 MiB + 1 byte, with few rows: long passwords
"$HARNESS_PYTHON" - <<'PY'
limit = 10 * 1024 * 1024
head = b"EmailAddress,UserName,Password\n"
for name, size in (("big.csv", limit + 1), ("limit.csv", limit)):
    out = bytearray(head)
    i = 0
    while len(out) < size:
        row = b"u%d@example.org,u%d," % (i, i)
        room = size - len(out) - len(row) - 1
        out += row + b"x" * max(1, min(60000, room)) + b"\n"
        i += 1
    del out[size:]
    if not out.endswith(b"\n"):
        out[-1:] = b"\n"
    assert len(out) == size, (name, len(out))
    open(name, "wb").write(out)
PY
assert_eq "$(stat -c %s big.csv)" 10485761 "big.csv is 10 MiB + 1 byte"
validate big.csv 2 "over the 10 MB limit"
validate limit.csv 0 "valid, 0 refused"

printf 'EmailAddress,UserName\na@example.org,a\n' >noheader.csv
validate noheader.csv 2 "the header lacks Password"

printf 'a@example.org,a,p\nb@example.org,b,q\n' >headerless.csv
validate headerless.csv 2 "the header lacks"

printf '%s\na@example.org,a,p\nb@example.org,b\nc@example.org,c,r\n' "$hdr" >short.csv
validate short.csv 2 "line 3: 2 fields where the header has 3"

printf '%s\n' "$hdr" >onlyheader.csv
validate onlyheader.csv 2 "no data rows"

# ---- well-formed files (exit 0)
printf '%s\r\n"a@example.org","a","p,w ""quoted"", with commas"\r\n' "$hdr" >quoted.csv
validate quoted.csv 0 "1 row: 1 valid, 0 refused"

printf '\xef\xbb\xbf%s\r\na@example.org,a,p\r\n' "$hdr" >bom.csv
validate bom.csv 0 "1 row: 1 valid, 0 refused"

printf '%s\r\na@example.org,a,p\r\nb@example.org,b,q\r\n' "$hdr" >crlf.csv
validate crlf.csv 0 "2 rows: 2 valid, 0 refused"
printf '%s\na@example.org,a,p\nb@example.org,b,q\n' "$hdr" >lf.csv
validate lf.csv 0 "2 rows: 2 valid, 0 refused"
printf '%s\r\na@example.org,a,p\nb@example.org,b,q' "$hdr" >mixed.csv
validate mixed.csv 0 "2 rows: 2 valid, 0 refused"

printf '%s,UserRoot,DestPassword\na@example.org,a,p,/users/a,d\n' "$hdr" >extra.csv
validate extra.csv 0 "1 row: 1 valid, 0 refused"

# ---- row checks (exit 1; the rest of the rows stay valid)
cat >rows.csv <<EOF
$hdr
good@example.org,good,p1
bad@@example.org,bad,p2
noname@example.org,,p3
nopass@example.org,nopass,
GOOD@example.org,dup,p5
other@example.org,other,p6
EOF
validate rows.csv 1 "6 rows: 2 valid, 4 refused"
v=$(cat "$T/v-rows.csv/validation.csv")
assert_contains "$v" "Line,EmailAddress,Reason" "validation.csv has its header"
assert_contains "$v" "3,bad@@example.org,EmailAddress is not valid" "bad address listed with line 3"
assert_contains "$v" "4,noname@example.org,UserName is empty" "empty user name listed"
assert_contains "$v" "5,nopass@example.org,Password is empty" "empty password listed"
assert_contains "$v" "6,GOOD@example.org,duplicate EmailAddress (first on line 2)" "duplicate listed"
assert_eq "$(grep -c 'good@example.org\|other@example.org' <<<"$v" || true)" 0 "valid rows not listed"
assert_eq "$(stat -c %a "$T/v-rows.csv/validation.csv")" 600 "validation.csv is 0600"
if grep -q 'p[0-9]' "$T/v-rows.csv/validation.csv"; then
	fail "a password appears in validation.csv"
fi
pass "no password in validation.csv"

harness_done
