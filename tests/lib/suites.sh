# shellcheck shell=bash
# Counting for tests/run-all, kept apart so tests/harness/run-tests can check it
# with fake suites. Source it, call suite_run for each suite, then suite_totals.
#
# A suite's last line must be its summary: "[NAME: ]N passed, M failed[, K skipped]".
# A suite counts one extra failure when it prints no summary line, or when it
# exits non-zero although its summary shows no failure (it crashed after
# printing, or its exit status disagrees). Skipped checks are counted apart:
# never as passed.

suite_tmp=$(mktemp -d)
trap 'rm -rf "$suite_tmp"' EXIT
suite_passed=0 suite_failed=0 suite_skipped=0
suite_lines=()

# The summary regex: group 2 passed, 3 failed, 5 skipped (optional).
suite_summary_re='^([A-Za-z0-9_.-]+: )?([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$'

suite_run() { # NAME COMMAND...: run it, show its output, add its counts
	local name=$1 rc last p=0 f=0 s=0 why="" t0=$SECONDS
	shift
	echo "== $name"
	"$@" | tee "$suite_tmp/out"
	rc=${PIPESTATUS[0]}
	last=$(tail -n 1 "$suite_tmp/out" | tr -d '\r')
	if [[ $last =~ $suite_summary_re ]]; then
		p=${BASH_REMATCH[2]} f=${BASH_REMATCH[3]} s=${BASH_REMATCH[5]:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			why="exited with status $rc after reporting no failure"
			f=1
		fi
	else
		why="printed no summary line (\"N passed, M failed\"; exit status $rc)"
		f=1
	fi
	[ -n "$why" ] && echo "run-all: suite $name $why: counted as 1 failure"
	suite_passed=$((suite_passed + p)) suite_failed=$((suite_failed + f))
	suite_skipped=$((suite_skipped + s))
	suite_lines+=("$(printf '  %-10s %d passed, %d failed, %d skipped in %d s%s' "$name" "$p" "$f" \
		"$s" $((SECONDS - t0)) "${why:+ ($why)}")")
}

suite_totals() { # the per-suite table, then the last line; returns 1 on any failure
	echo "== totals"
	printf '%s\n' "${suite_lines[@]}"
	echo "$suite_passed passed, $suite_failed failed, $suite_skipped skipped"
	[ "$suite_failed" -eq 0 ]
}
