#!/usr/bin/env bash
# Regression guard for mmusim's speed work (issue 12): every workload and a
# small real trace (tests/mmusim/echo.lackey.xz: valgrind lackey on
# `/bin/echo hi`, its first 150,000 lines) through every kind of
# configuration, with --json; every field must equal the values stored in
# tests/mmusim/counts/ (captured from the code before the speed work). Only
# the speed fields may differ: seconds, generate_seconds, sim_seconds,
# sim_cpu_seconds, accesses_per_second, accesses_per_cpu_second, and the fields that say how the run was done (jobs,
# prefetch, table_cache, path_cache).
#
#   tests/mmusim/counts.sh [--update] [EXTRA MMUSIM OPTIONS...]
#
# Extra options (e.g. --jobs 2, --no-prefetch) are passed to every run: a
# speed option must not change a count. --update rewrites the stored values;
# only for a change that is meant to change counts, said so in its commit.
# Prints "ok N - name" / "not ok N - name", then "N passed, M failed".
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mmusim=${MMUSIM:-$root/build/mmusim} # MMUSIM: another build, e.g. to --update from an older one
store=$root/tests/mmusim/counts
trace=$root/tests/mmusim/echo.lackey.xz
update=false
if [ "${1:-}" = --update ]; then
	update=true
	shift
fi
extra=("$@")
tmp=$(mktemp -d /tmp/mmusim-counts.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$root/tests/mmusim/tap.sh"

if [ ! -x "$mmusim" ]; then
	echo "Bail out! $mmusim not built (make build/mmusim)"
	exit 1
fi

# Every mode with every page size at least once, the mixed 2D pairs and THP.
all=4k+4k,2m+2m,1g+1g,4k+2m,2m+4k,4k+1g,1g+4k,2m+1g,1g+2m,thp+4k,thp+2m
all+=,native-4k,native-2m,native-1g,native-thp,native-ds,native-ds:2m
all+=,dual-direct,dual-direct:2m+2m,vmm-direct,vmm-direct:1g+1g
all+=,guest-direct,guest-direct:2m+4k,guest-direct:thp+2m

# name | input ("-" = the stored trace on stdin) | options
runs=(
	"gups|wl|--workload gups --footprint 64M --accesses 200K"
	"bfs|wl|--workload bfs --footprint 64M --scale 12 --accesses 200K"
	"cg|wl|--workload cg --footprint 64M --accesses 200K"
	"kvs|wl|--workload kvs --footprint 64M --accesses 200K"
	"chase|wl|--workload chase --footprint 64M --accesses 200K"
	"stream|wl|--workload stream --footprint 64M --accesses 200K"
	"gups-escape-pwc|wl|--workload gups --footprint 64M --accesses 100K --escape 64 --pwc"
	"chase-escape-bloom|wl|--workload chase --footprint 256M --accesses 100K --escape 512 --escape-bits 1024 --seed 7"
	"kvs-skylake-pwc|wl|--workload kvs --footprint 64M --accesses 100K --tlb skylake --pwc"
	"stream-skylake|wl|--workload stream --footprint 2G --accesses 200K --tlb skylake"
	"gups-16g-growth|wl|--workload gups --footprint 16G --accesses 150K"
	"trace|-|"
	"trace-ifetch-primary|-|--ifetch --primary 0x400000-0x10000000 --escape 16"
	"trace-skylake-pwc|-|--tlb skylake --pwc"
)

for r in "${runs[@]}"; do
	IFS='|' read -r name input opts <<<"$r"
	# shellcheck disable=SC2086
	if [ "$input" = - ]; then
		xz -dc "$trace" | "$mmusim" --trace - $opts --config "$all" --json --quiet \
			"${extra[@]}" >"$tmp/$name.json" 2>"$tmp/$name.err"
	else
		"$mmusim" $opts --config "$all" --json --quiet "${extra[@]}" \
			>"$tmp/$name.json" 2>"$tmp/$name.err"
	fi
	rc=$?
	if [ $rc -ne 0 ]; then
		sed 's/^/# /' "$tmp/$name.err"
		report 1 "$name: mmusim exits 0"
		continue
	fi
	if $update; then
		mkdir -p "$store"
		python3 - "$tmp/$name.json" "$store/$name.json" <<'PY'
import json, sys
speed = {"seconds", "generate_seconds", "sim_seconds", "accesses_per_second", "jobs", "prefetch", "table_cache", "path_cache",
         "sim_cpu_seconds", "accesses_per_cpu_second"}
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in speed}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
json.dump(strip(json.load(open(sys.argv[1]))), open(sys.argv[2], "w"), indent=1, sort_keys=True)
open(sys.argv[2], "a").write("\n")
PY
		report $? "$name: stored"
		continue
	fi
	python3 - "$store/$name.json" "$tmp/$name.json" <<'PY'
import json, sys
speed = {"seconds", "generate_seconds", "sim_seconds", "accesses_per_second", "jobs", "prefetch", "table_cache", "path_cache",
         "sim_cpu_seconds", "accesses_per_cpu_second"}
want = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))
bad = []
def cmp(w, g, path):
    if isinstance(w, dict) and isinstance(g, dict):
        for k in w:
            if k not in g:
                bad.append(f"{path}.{k}: missing")
            else:
                cmp(w[k], g[k], f"{path}.{k}")
        for k in g:
            if k not in w and k not in speed:
                bad.append(f"{path}.{k}: new field")
    elif isinstance(w, list) and isinstance(g, list) and len(w) == len(g):
        for i, (a, b) in enumerate(zip(w, g)):
            name = a.get("name", i) if isinstance(a, dict) else i
            cmp(a, b, f"{path}[{name}]")
    elif w != g or type(w) != type(g):
        bad.append(f"{path}: stored {w!r}, now {g!r}")
cmp(want, got, "")
for b in bad[:10]:
    print("#", b)
sys.exit(1 if bad else 0)
PY
	report $? "$name: every count as stored${extra[*]:+ (with ${extra[*]})}"
done
summary
