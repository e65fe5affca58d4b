#!/usr/bin/env bash
# mmusim under memcheck and in little address space (issue 8, "mmusim"):
# memcheck finds no error in small runs of a workload and of the stored trace;
# a run that grows its table arenas fits in `ulimit -v 1G`; a trace of NUL
# bytes names its line and byte; --accesses N on a trace counts what was
# simulated, not the batch parsed; --jobs stops cleanly on a bad trace line,
# refuses 0 and runs one thread with --pwc.
#
# Prints "ok N - name" / "not ok N - name" ("ok N - name # SKIP why" when a
# tool is missing), then "N passed, M failed, K skipped".
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mmusim=${MMUSIM:-$root/build/mmusim}
trace=$root/tests/mmusim/echo.lackey.xz
tmp=$(mktemp -d /tmp/mmusim-hardening.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$root/tests/mmusim/tap.sh"


if [ ! -x "$mmusim" ]; then
	echo "Bail out! $mmusim not built (make build/mmusim)"
	exit 1
fi

every=4k+4k,2m+2m,1g+1g,thp+4k,native-4k,native-ds,dual-direct,vmm-direct,guest-direct
memcheck() { # memcheck NAME LOG MMUSIM-ARGS...: valgrind's exit status
	valgrind --tool=memcheck --error-exitcode=1 --log-file="$tmp/$2" "$mmusim" "${@:3}" \
		>/dev/null 2>&1
}
if command -v valgrind >/dev/null 2>&1; then
	memcheck gups vg-gups.log --workload gups --footprint 16M --accesses 20K --quiet \
		--config "$every" --escape 8 --pwc
	rc=$?
	[ $rc -eq 0 ] || sed -n '/ERROR SUMMARY\|Invalid\|uninitialised/p' "$tmp/vg-gups.log" | head -5 | sed 's/^/# /'
	report $rc "memcheck: a small gups run over every mode is clean"
	xz -dc "$trace" | head -n 20000 >"$tmp/small.lackey"
	memcheck trace vg-trace.log --trace "$tmp/small.lackey" --quiet --config "$every"
	rc=$?
	[ $rc -eq 0 ] || sed -n '/ERROR SUMMARY\|Invalid\|uninitialised/p' "$tmp/vg-trace.log" | head -5 | sed 's/^/# /'
	report $rc "memcheck: a small lackey trace is clean"
else
	skip "memcheck: a small gups run over every mode is clean" "valgrind not installed"
	skip "memcheck: a small lackey trace is clean" "valgrind not installed"
fi

# 16 GiB of gups touches 32 MiB of 4 KiB tables per dimension: the arenas
# grow from 16 MiB, in 1 GiB of address space for everything.
(ulimit -v 1048576 && "$mmusim" --workload gups --footprint 16G --accesses 200K --quiet \
	--config 4k+4k,2m+2m,native-4k --json >"$tmp/ulimit.json" 2>"$tmp/ulimit.err")
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/ulimit.err"
report $rc "ulimit -v 1G: a run whose table arenas grow"
python3 - "$tmp/ulimit.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = {x["name"]: x for x in d["configs"]}
ok = c["4k+4k"]["walk_refs"] == 24 * c["4k+4k"]["walks"] and c["4k+4k"]["tables_guest"] > 4096
sys.exit(0 if ok else 1)
PY
report $? "... every walk 24 references, more than 16 MiB of tables"

head -c 9000 /dev/zero | "$mmusim" --trace - >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "line 1 (byte 0)" "$tmp/err"
report $? "a trace of NUL bytes: line 1, byte 0 ($(head -c 60 "$tmp/err"))"
{ printf ' L 10,4\n S 20,8\n'; head -c 5000 /dev/zero; } | "$mmusim" --trace - >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "line 3 (byte 16)" "$tmp/err"
report $? "NUL bytes after two records: line 3, byte 16"

printf ' L 10,4\nI  40,4\n M 20,8\n S 30,8\n L 50,4\n' |
	"$mmusim" --trace - --accesses 2 --config native-4k --json >"$tmp/cut.json"
python3 - "$tmp/cut.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["trace"]
got = (d["accesses"], t["data_accesses"], t["loads"], t["stores"], t["modifies"], t["ifetches"])
want = (2, 2, 2, 0, 0, 1)  # L, I, and the load of the M
sys.exit(0 if got == want else f"{got} != {want}")
PY
report $? "--accesses 2 on a trace: the trace counts are those of the 2 accesses simulated"
xz -dc "$trace" | "$mmusim" --trace - --accesses 10000 --config native-4k --json >"$tmp/cut.json"
python3 - "$tmp/cut.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["trace"]["data_accesses"] == d["accesses"] == 10000 else 1)
PY
report $? "--accesses 10000 on the stored trace: data_accesses = accesses = 10000"

# --jobs: a trace error in the middle of a threaded run stops it cleanly.
{ xz -dc "$trace" | head -n 60000; echo "not a record"; } |
	"$mmusim" --trace - --jobs 2 --quiet >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "line 60001 .*not a lackey record" "$tmp/err"
report $? "--jobs 2: a bad trace line stops the run with its line ($(head -c 70 "$tmp/err"))"
"$mmusim" --workload gups --jobs 0 >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "--jobs" "$tmp/err"
report $? "--jobs 0 is refused"
"$mmusim" --workload gups --footprint 64M --accesses 50K --jobs 2 --pwc --json --quiet \
	--config 4k+4k,native-4k >"$tmp/pwc.json"
python3 - "$tmp/pwc.json" <<'PY'
import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))["jobs"] == 1 else 1)
PY
report $? "--jobs 2 with --pwc runs one thread and says so (jobs: 1)"

summary
