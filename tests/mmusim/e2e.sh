#!/usr/bin/env bash
# End-to-end checks of build/mmusim (issue 3): a small fixed --json run
# checked field by field, the issue's "done when" run, traces on stdin, bad
# arguments, CSV and plot output, and -- when valgrind and qemu-x86_64 are
# installed -- that lackey and qtrace agree within 1% on the data accesses of
# a real program (sort on E2E_SORT_BYTES of text, default 1 MiB).
#
# Prints "ok N - name" / "not ok N - name" ("... # SKIP why" for a check a
# missing tool prevents), then "N passed, M failed, K skipped";
# exits non-zero if anything failed. Run from anywhere after `make`.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mmusim=$root/build/mmusim
qtrace=$root/tools/qtrace
tmp=$(mktemp -d /tmp/mmusim-e2e.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$root/tests/mmusim/tap.sh"



# check NAME PYTHON: run the Python snippet over $tmp/out.json (as d).
check() {
	python3 - "$tmp/out.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cfg = {c["name"]: c for c in d["configs"]}
def eq(a, b, what):
    if a != b:
        sys.exit(f"{what}: {a!r} != {b!r}")
def near(a, b, what, tol=1e-9):
    if abs(a - b) > tol * max(1.0, abs(b)):
        sys.exit(f"{what}: {a!r} != {b!r}")
exec(sys.argv[2])
PY
	report $? "$1"
}

if [ ! -x "$mmusim" ]; then
	echo "Bail out! $mmusim not built (make build/mmusim)"
	exit 1
fi

# --- a small fixed run, field by field ---------------------------------------
list=4k+4k,2m+2m,1g+1g,4k+2m,native-4k,native-2m,native-ds,dual-direct,vmm-direct,guest-direct
"$mmusim" --workload gups --footprint 64M --accesses 100K --seed 1 --config "$list" --json \
	>"$tmp/out.json" 2>"$tmp/err"
report $? "small gups run exits 0"

check "top-level fields" '
eq(d["workload"], "gups", "workload")
eq(d["accesses"], 100000, "accesses")
eq(d["footprint"], 64 << 20, "footprint")
eq(d["seed"], 1, "seed")
eq(d["tlb"], "sandybridge", "tlb")
eq(d["pwc"], False, "pwc")
eq([c["name"] for c in d["configs"]], "'"$list"'".split(","), "config names and order")
eq(d["layout"]["primary_base"], 1 << 40, "primary_base")
eq(d["layout"]["primary_limit"], (1 << 40) + (64 << 20), "primary_limit")
eq(d["layout"]["guest_segment"]["base"], 1 << 40, "BASE_g")
eq(d["layout"]["vmm_segment"]["base"], 0, "BASE_v")
eq(d["layout"]["escaped_pages"], 0, "escaped pages")
'

check "every configuration saw every access" '
for c in d["configs"]:
    eq(c["accesses"], 100000, c["name"] + " accesses")
    eq(c["walks"], c["l2_misses"], c["name"] + " walks = l2_misses")
    eq(c["l1_misses"] >= c["l2_misses"], True, c["name"] + " l1 >= l2 misses")
    eq(c["escape_false_positives"], 0, c["name"] + " escape FP")
    near(c["l1_mpka"], 1000 * c["l1_misses"] / c["accesses"], c["name"] + " l1_mpka")
'

check "walk references per walk (4/3 native, 24/15/8/19 2D, 4 segments)" '
want = {"4k+4k": 24, "2m+2m": 15, "1g+1g": 8, "4k+2m": 19, "native-4k": 4, "native-2m": 3,
        "vmm-direct": 4, "guest-direct": 4}
for name, refs in want.items():
    c = cfg[name]
    eq(c["walks"] > 0, True, name + " walks")
    eq(c["walk_refs"], refs * c["walks"], name + " walk_refs")
    eq(c["refs_per_walk_max"], refs, name + " refs_per_walk_max")
    near(c["refs_per_walk_avg"], refs, name + " refs_per_walk_avg")
'

check "2D walks split by kind: 4 guest, 16 nested, 4 final for 4k+4k" '
c = cfg["4k+4k"]
r = c["refs_by_level"]
eq(sum(r["guest"]), 4 * c["walks"], "guest refs")
eq(sum(r["nested"]), 16 * c["walks"], "nested refs")
eq(sum(r["final"]), 4 * c["walks"], "final refs")
'

check "segments: dual-direct and native-ds never walk, vmm/guest-direct hit" '
for name in ("dual-direct", "native-ds"):
    eq(cfg[name]["walks"], 0, name + " walks")
    eq(cfg[name]["walk_refs"], 0, name + " walk_refs")
    eq(cfg[name]["refs_per_walk_max"], 0, name + " max")
    eq(cfg[name]["segment_hits"] > 0, True, name + " segment hits")
for name in ("vmm-direct", "guest-direct"):
    eq(cfg[name]["segment_hits"], cfg[name]["walks"], name + " segment hits")
eq(cfg["4k+4k"]["segment_hits"], 0, "4k+4k segment hits")
eq(cfg["native-4k"]["segment_hits"], 0, "native-4k segment hits")
'

check "cycles and overheads" '
base = cfg["native-4k"]
for c in d["configs"]:
    near(c["cycles_per_ref_model"], 12 * c["walk_refs"] + c["segment_adds"], c["name"] + " ref cycles")
    near(c["overhead_vs_native_4k"], c["cycles_per_ref_model"] / base["cycles_per_ref_model"], c["name"] + " overhead")
    near(c["overhead_linear_vs_native_4k"], c["cycles_linear"] / base["cycles_linear"], c["name"] + " linear overhead")
near(base["overhead_vs_native_4k"], 1.0, "native-4k overhead")
# Table IV with the default parameters: C_n = 12 * 4, C_v = 12 * 24 per miss
near(cfg["native-4k"]["cycles_linear"], 48 * cfg["native-4k"]["misses"]["m_n"], "C_n * M_n")
near(cfg["4k+4k"]["cycles_linear"], 288 * cfg["4k+4k"]["misses"]["m_n"], "C_v * M_n")
near(cfg["4k+4k"]["overhead_vs_native_4k"], 6.0, "4k+4k = 24/4 of native")
'

# the model's walk memo is a speed option: same counts with it
cp "$tmp/out.json" "$tmp/nomemo.json"
"$mmusim" --workload gups --footprint 64M --accesses 100K --seed 1 --config "$list" --json \
	--memo 65536 >"$tmp/memo.json" 2>/dev/null
python3 - "$tmp/nomemo.json" "$tmp/memo.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["configs"] for p in sys.argv[1:])
drop = ("sim_seconds", "accesses_per_second", "sim_cpu_seconds", "accesses_per_cpu_second")
same = all({k: v for k, v in x.items() if k not in drop} == {k: v for k, v in y.items() if k not in drop}
           for x, y in zip(a, b))
sys.exit(0 if same and len(a) == len(b) else 1)
PY
report $? "--memo changes no count"

# --- the issue's "done when" run ---------------------------------------------
start=$(date +%s)
"$mmusim" --workload gups --footprint 8G --accesses 10M \
	--config 4k+4k,dual-direct,vmm-direct,guest-direct,native-4k --json --quiet >"$tmp/out.json"
report $? "gups 8G 10M runs"
secs=$(($(date +%s) - start))
[ "$secs" -lt 60 ]
report $? "... in seconds (${secs}s)"
check "... and obeys the reference counts" '
eq(d["accesses"], 10000000, "accesses")
for name, refs in {"4k+4k": 24, "vmm-direct": 4, "guest-direct": 4, "native-4k": 4}.items():
    eq(cfg[name]["walk_refs"], refs * cfg[name]["walks"], name)
    eq(cfg[name]["refs_per_walk_max"], refs, name + " max")
eq(cfg["dual-direct"]["walks"], 0, "dual-direct walks")
'

# --- escaped pages -------------------------------------------------------------
"$mmusim" --workload chase --footprint 16M --accesses 200K --escape 64 \
	--config vmm-direct,dual-direct --json >"$tmp/out.json" 2>/dev/null
report $? "escape run exits 0"
check "escaped pages are walked, never translated by the segment" '
eq(d["layout"]["escaped_pages"], 64, "escaped pages")
for name in ("vmm-direct", "dual-direct"):
    eq(cfg[name]["escape_hits"] > 0, True, name + " escape hits")
eq(cfg["dual-direct"]["walks"] >= cfg["dual-direct"]["escape_hits"], True, "dual-direct walks escapes")
'

# --- traces on stdin -----------------------------------------------------------
printf '==1== Lackey\nI  0400000,3\n L 7ff000100,8\n S 7ff000108,8\n M 601000,4\n' |
	"$mmusim" --trace - --config 4k+4k,native-4k --json >"$tmp/out.json"
report $? "lackey trace from stdin"
check "... counted exactly" '
t = d["trace"]
eq(t["format"], "lackey", "format")
eq((t["loads"], t["stores"], t["modifies"], t["ifetches"], t["data_accesses"]), (2, 2, 1, 1, 4), "counts")
eq(d["accesses"], 4, "accesses")
eq(cfg["4k+4k"]["walks"], 2, "two pages, two walks")
eq(cfg["4k+4k"]["walk_refs"], 48, "24 each")
'

printf ' L 10,4\nnot a record\n' | "$mmusim" --trace - >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "line 2 (byte 8): not a lackey record" "$tmp/err"
report $? "malformed trace line: clear error, exit 1"

# --- bad arguments -------------------------------------------------------------
bad() { # bad MESSAGE ARGS...: exit 2 and MESSAGE on stderr
	local msg=$1
	shift
	"$mmusim" "$@" >/dev/null 2>"$tmp/err"
	[ $? -eq 2 ] && grep -q -- "$msg" "$tmp/err"
	report $? "bad arguments: $*"
}
bad "unknown option" --workload gups --frobnicate
bad "unknown workload" --workload nosuch
bad "unknown configuration" --workload gups --config 4k+3k
bad "exactly one of" --accesses 5
bad "is not a size" --workload gups --footprint lots

# --- CSV and plot --------------------------------------------------------------
"$mmusim" --workload stream --footprint 32M --accesses 50K --config 4k+4k,native-4k,vmm-direct \
	--csv "$tmp/out.csv" >/dev/null
[ $? -eq 0 ] && [ "$(wc -l <"$tmp/out.csv")" -eq 4 ] && head -1 "$tmp/out.csv" | grep -q "^workload,name,mode,accesses"
report $? "--csv writes a header and one row per configuration"
if command -v gnuplot >/dev/null; then
	"$mmusim" --workload stream --footprint 32M --accesses 50K --plot "$tmp/out.png" >/dev/null
	[ $? -eq 0 ] && [ "$(head -c 4 "$tmp/out.png" | od -An -tx1 | tr -d ' ')" = "89504e47" ]
	report $? "--plot draws a PNG"
else
	skip "--plot draws a PNG" "needs gnuplot"
fi

# --- lackey vs qtrace on a real program --------------------------------------------
if command -v valgrind >/dev/null && command -v qemu-x86_64 >/dev/null &&
	[ -f "$root/build/qtrace.so" ]; then
	bytes=${E2E_SORT_BYTES:-1048576}
	python3 - "$tmp/in.txt" "$bytes" <<'PY'
import random, sys
random.seed(3)
with open(sys.argv[1], "w") as f:
    n = 0
    while n < int(sys.argv[2]):
        s = "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(random.randint(5, 40)))
        f.write(s + "\n")
        n += len(s) + 1
PY
	sort_bin=$(command -v sort)
	LC_ALL=C valgrind --tool=lackey --trace-mem=yes --log-fd=3 "$sort_bin" --parallel=1 \
		"$tmp/in.txt" 3>&1 >/dev/null 2>/dev/null |
		"$mmusim" --trace - --config native-4k --json --quiet >"$tmp/lackey.json"
	report $? "sort under lackey into mmusim"
	LC_ALL=C "$qtrace" -q -- "$sort_bin" --parallel=1 "$tmp/in.txt" |
		"$mmusim" --trace - --config native-4k --json --quiet >"$tmp/qtrace.json"
	report $? "sort under qtrace into mmusim"
	python3 - "$tmp/lackey.json" "$tmp/qtrace.json" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))["trace"]
q = json.load(open(sys.argv[2]))["trace"]
assert l["format"] == "lackey" and q["format"] == "qtrace"
diff = abs(l["data_accesses"] - q["data_accesses"]) / l["data_accesses"]
print(f"# lackey {l['data_accesses']} qtrace {q['data_accesses']} data accesses: {100 * diff:.3f}% apart")
sys.exit(0 if diff < 0.01 and l["data_accesses"] > 1000000 else 1)
PY
	report $? "lackey and qtrace agree within 1% on data accesses"
else
	for name in "sort under lackey into mmusim" "sort under qtrace into mmusim" \
		"lackey and qtrace agree within 1% on data accesses"; do
		skip "$name" "needs valgrind, qemu-x86_64, build/qtrace.so"
	done
fi

summary
