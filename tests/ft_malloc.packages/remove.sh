#!/bin/sh
# ft_malloc.packages/remove.sh - apt-get remove of the packages while the
# library is enabled system-wide, in a private mount namespace whose /etc
# is an overlay (the real /etc/ld.so.preload is never written): the
# removal runs on ft_malloc itself, and libft-malloc1's prerm must take
# its line out of /etc/ld.so.preload and keep the others.
#
# Usage: unshare --mount --propagation private sh remove.sh TMPDIR PACKAGE...
# Prints PASS:/FAIL: lines and FTM-END (read by packages.sh, which checks
# what the removal left on disk); exit 77 when the namespace or the
# overlay cannot be had (nothing was removed then).
set -u
tmp=$1/remove
shift
rm -rf "$tmp"
. "${0%/*}/../lib/etc_overlay.sh"
ftm_etc_overlay "$tmp"

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
f=/etc/ld.so.preload
lib=$(ft-malloc --library)
other=$(ls /lib/*/libm.so.6 /usr/lib/*/libm.so.6 2>/dev/null | head -n 1)   # someone else's line

printf '%s\n' "$other" >"$f"
if ft-malloc --system=enable >"$tmp/enable.out" 2>&1 && grep -Fqx -- "$lib" "$f" &&
   grep -q libft_malloc /proc/self/maps; then
	pass "before removal: ft-malloc --system=enable, new programs load $lib"
else
	fail "before removal: ft-malloc --system=enable, new programs load $lib"
	cat "$tmp/enable.out" >&2
fi
if apt-get remove -y -q "$@" >"$tmp/remove.out" 2>&1; then
	pass "apt-get remove, itself running on ft_malloc"
else
	fail "apt-get remove, itself running on ft_malloc"
	tail -n 30 "$tmp/remove.out" >&2
fi
if [ "$(cat "$f" 2>/dev/null)" = "$other" ]; then
	pass "the removal took the library's line out of /etc/ld.so.preload, kept the other"
else
	fail "the removal took the library's line out of /etc/ld.so.preload, kept the other -- file: $(tr '\n' '|' <"$f" 2>/dev/null)"
fi
err=$(sh -c true 2>&1)
if [ -z "$err" ]; then
	pass "after the removal, a new program starts without a loader error"
else
	fail "after the removal, a new program starts without a loader error -- $err"
fi
echo "FTM-END remove"
