# TAP-style counting shared by the mmusim test scripts (sourced): report and
# skip number the checks; summary prints the closing line make test reads
# and returns non-zero when a check failed.
passed=0 failed=0 skipped=0 n=0

report() { # report STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
		passed=$((passed + 1))
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

skip() { # skip NAME REASON: a check that could not run, reported and counted
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
	skipped=$((skipped + 1))
}

summary() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}
