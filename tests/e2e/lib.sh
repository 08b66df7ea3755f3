# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the end-to-end tests (tests/e2e/t-*.sh), which source this
# file: `. "$(dirname "$0")/lib.sh"`. tests/e2e/run runs each test with bash
# inside tools/kvmbox, cwd = the repo top, and these variables set:
#   PHYLLO_TOP    the repo top          PHYLLO_BUILD  the meson build dir
#   PHYLLO_GUEST  build/guest           PHYLLO_VMM    build/phyllo-vmm
#   PHYLLO_TMP    a scratch directory of this test, removed afterwards
# A test exits 0 to pass, 1 to fail; 77 means skipped, which the runner
# counts as a failure. This file sets no shell options (no set -e): a test
# that wants them sets them itself, so `cmd; status=$?` works as written.

: "${PHYLLO_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PHYLLO_BUILD:=$PHYLLO_TOP/build}"
: "${PHYLLO_GUEST:=$PHYLLO_BUILD/guest}"
: "${PHYLLO_VMM:=$PHYLLO_BUILD/phyllo-vmm}"
if [[ -z "${PHYLLO_TMP:-}" ]]; then
	PHYLLO_TMP=$(mktemp -d)
	trap 'rm -rf "$PHYLLO_TMP"' EXIT
fi
export PHYLLO_TOP PHYLLO_BUILD PHYLLO_GUEST PHYLLO_VMM PHYLLO_TMP

# fail MSG: the test fails with MSG.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# fail_log LOG MSG: the test fails with MSG, followed by the last lines of
# LOG (a guest or VMM log), so that a failure in CI explains itself.
fail_log() {
	local log=$1
	shift
	echo "FAIL: $*" >&2
	if [[ -s "$log" ]]; then
		echo "--- last lines of $log:" >&2
		tail -n 25 "$log" | tr -d '\r' | sed 's/^/  | /' >&2
	fi
	exit 1
}

# skip MSG: the test cannot run here (reported as a failure all the same).
skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# note MSG: a line for the log.
note() { echo "# $*"; }

# expect_line FILE REGEX: FILE has a line matching the extended REGEX.
expect_line() {
	local file=$1 re=$2
	[[ -f "$file" ]] || fail "expected a line matching /$re/ in $file, which does not exist"
	if ! grep -Eq -- "$re" "$file"; then
		echo "--- last 30 lines of $file:" >&2
		tail -n 30 "$file" >&2
		fail "expected a line matching /$re/ in $file"
	fi
}

# wait_line FILE REGEX SECONDS [PID]: waits until FILE has a line matching
# REGEX; returns 1 after SECONDS, or as soon as process PID (the VMM that
# writes FILE) has ended without writing it.
wait_line() {
	local file=$1 re=$2 end=$((SECONDS + $3)) pid=${4:-}
	while ((SECONDS < end)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
			grep -Eq -- "$re" "$file" 2>/dev/null
			return
		fi
		sleep 0.2
	done
	return 1
}

# wait_socket PATH SECONDS [PID]: waits until the Unix socket PATH exists
# (its listener is up); returns 1 after SECONDS, or once process PID ended.
# Generous on purpose: a VMM in the TCG box can take many seconds to start
# (cold 9p page cache after the runner drops caches).
wait_socket() {
	local path=$1 end=$((SECONDS + $2)) pid=${3:-}
	while ((SECONDS < end)); do
		[[ -S "$path" ]] && return 0
		if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
			[[ -S "$path" ]]
			return
		fi
		sleep 0.1
	done
	return 1
}

# free_port [ADDR]: a TCP port on ADDR (127.0.0.1) nobody listens on now.
free_port() {
	python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' \
		"${1:-127.0.0.1}"
}

# serve_blob ADDR: an HTTP server on ADDR serving $PHYLLO_TMP/www (made
# here, with /blob: 1 MiB of random bytes). Sets BLOB_MD5, HTTP_PORT and
# HTTP_PID (the caller's EXIT trap kills it).
# shellcheck disable=SC2034 # the globals are for the caller
serve_blob() {
	local web=$PHYLLO_TMP/www
	mkdir -p "$web"
	head -c 1048576 /dev/urandom >"$web/blob"
	BLOB_MD5=$(md5sum <"$web/blob" | cut -d' ' -f1)
	HTTP_PORT=$(free_port "$1")
	python3 -m http.server --bind "$1" --directory "$web" "$HTTP_PORT" >"$PHYLLO_TMP/http.log" 2>&1 &
	HTTP_PID=$!
}

# run_vmm TIMEOUT LOG ARGS...: runs $PHYLLO_VMM ARGS... for at most TIMEOUT
# seconds, stdout and stderr to LOG; returns its status (124 on timeout).
# Under set -e write `rc=0; run_vmm ... || rc=$?` to look at the status.
# A guest whose kernel panicked (seen in the box: a nested-SVM fault in the
# guest's syscall entry) sits there until the time limit; run_vmm ends it
# within a second or two instead (status 125, said on stderr), so the
# runner's retry comes minutes sooner.
run_vmm() {
	local t=$1 log=$2 pid rc=0
	shift 2
	[[ -x "$PHYLLO_VMM" ]] || fail "no VMM at $PHYLLO_VMM (build it first)"
	# (fd 3: the caller's stdin, which a background command would lose)
	{ timeout -k 5 "$t" "$PHYLLO_VMM" "$@" <&3 3<&- >"$log" 2>&1 & } 3<&0
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -aq 'Kernel panic - not syncing' "$log" 2>/dev/null; then
			sleep 2 # the rest of the panic's lines
			kill "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			echo "run_vmm: the guest's kernel panicked ($log): stopped it" >&2
			return 125
		fi
		sleep 0.2 # (a VMM's end is seen within 0.2 s)
	done
	wait "$pid" || rc=$?
	return "$rc"
}

# secs_since START: seconds since START (a $EPOCHREALTIME), e.g. "12.3".
secs_since() {
	local a=${1/./} b=${EPOCHREALTIME/./}
	printf '%d.%01d' $(((b - a) / 1000000)) $((((b - a) % 1000000) / 100000))
}
