#!/bin/sh
# ft_malloc.enable/enable.sh - ft-malloc --system=enable|disable|status, in
# a private mount namespace whose /etc is an overlay: the real /etc is
# never written (the file exists only in the overlay's upper folder).
#
# Usage: unshare --mount --propagation private sh enable.sh FT_MALLOC TMPDIR
# Prints PASS:/FAIL: lines and FTM-END (read by enable.exp); exit 77 when
# the namespace or the overlay cannot be had.
set -u
ftm=$1
tmp=$2/enable
rm -rf "$tmp"
. "${0%/*}/../lib/etc_overlay.sh"
ftm_etc_overlay "$tmp"

f=/etc/ld.so.preload
lib=$("$ftm" --library) || { echo "FAIL: ft-malloc --library"; echo "FTM-END enable"; exit 0; }
other=$(ls /lib/*/libm.so.6 /usr/lib/*/libm.so.6 2>/dev/null | head -n 1)   # a harmless line of someone else's

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
check() {   # check NAME CONDITION-COMMAND...
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name -- file: $(tr '\n' '|' <"$f" 2>/dev/null)"; fi
}
lines() { [ -f "$f" ] && grep -c . "$f" || echo 0; }
has() { [ -f "$f" ] && grep -Fqx -- "$1" "$f"; }
loaded() { grep -q libft_malloc /proc/self/maps; }     # read by a new cat below

# start: another administrator's line, no newline at its end
rm -f "$f"
printf '%s' "$other" >"$f"
"$ftm" --system=status >"$tmp/out" 2>&1
check "status while disabled: exit 1, says disabled" test $? -eq 1 -a -n "$(grep disabled "$tmp/out")"
"$ftm" --system=enable >"$tmp/out" 2>&1
check "enable: exit 0" test $? -eq 0
check "enable: the other line kept, ours added after it, nothing else" \
	test "$(lines)" -eq 2 -a "$(sed -n 1p "$f")" = "$other" -a "$(sed -n 2p "$f")" = "$lib"
check "enable: mode 644, no temporary file left" \
	test "$(stat -c %a "$f")" = 644 -a -z "$(ls /etc | grep 'ld.so.preload.ft-malloc')"
check "enabled: a new program loads the library" sh -c 'grep -q libft_malloc /proc/self/maps'
"$ftm" --system=status >"$tmp/out" 2>&1
check "status while enabled: exit 0" test $? -eq 0
"$ftm" --system=enable >"$tmp/out" 2>&1
check "enable again: exit 0, no second line" test $? -eq 0 -a "$(lines)" -eq 2
"$ftm" --system=disable >"$tmp/out" 2>&1
check "disable: exit 0, only our line removed" \
	test $? -eq 0 -a "$(lines)" -eq 1 -a "$(cat "$f")" = "$other"
check "disabled: a new program does not load the library" sh -c '! grep -q libft_malloc /proc/self/maps'
"$ftm" --system=disable >"$tmp/out" 2>&1
check "disable again: exit 0, file unchanged" test $? -eq 0 -a "$(cat "$f")" = "$other"
# a file that held only our line goes
rm -f "$f"
"$ftm" --system=enable >/dev/null 2>&1
check "enable without a file: the file holds our line" test "$(cat "$f" 2>/dev/null)" = "$lib"
"$ftm" --system=disable >/dev/null 2>&1
check "disable: the file, empty, is removed" test ! -e "$f"
# not root: refused, nothing written
# (the script and the library copied where nobody can read them: the build
# folder may be private)
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1 &&
   pub=$(mktemp -d /tmp/ftm-enable.XXXXXX); then
	mkdir -p "$pub/.libs" && cp "$ftm" "$pub/ft-malloc" && cp "$lib" "$pub/.libs/" &&
		chmod -R a+rX "$pub"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$pub/ft-malloc" --system=enable \
		>"$tmp/out" 2>&1
	rc=$?
	check "enable as nobody: refused (exit 1), nothing written" test $rc -eq 1 -a ! -e "$f"
	rm -rf "$pub"
fi
"$ftm" --system=sometimes >"$tmp/out" 2>&1
check "--system=sometimes: exit 125" test $? -eq 125
echo "FTM-END enable"
