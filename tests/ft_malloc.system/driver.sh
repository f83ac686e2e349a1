#!/bin/sh
# ft_malloc.system/driver.sh - run the workloads with /etc/ld.so.preload
# naming libft_malloc, without touching the real /etc.
#
#   unshare --mount --propagation private sh driver.sh D LIB OUTER_NS R ITEM...
#
# D         the test's private folder (755, under /tmp)
# LIB       absolute path of the copy of libft_malloc.so.1 to preload
# OUTER_NS  readlink /proc/self/ns/mnt of the caller (outside the namespace)
# R, ITEM   passed on to "workloads.sh run"
#
# /etc/ld.so.preload is written only into the upper folder of an overlay
# (D/ov/upper), never through /etc: the file exists under /etc only in this
# mount namespace, which dies when the last process in it exits.
# Exit status 77: namespace or overlay not available here (UNSUPPORTED);
# 78: the overlay is mounted but the library is not preloaded (FAIL).

set -u
umask 022
HERE=$(cd "$(dirname "$0")" && pwd)
D=$1 LIB=$2 OUTER_NS=$3
shift 3

ns=$(readlink /proc/self/ns/mnt)
if [ -z "$ns" ] || [ "$ns" = "$OUTER_NS" ]; then
	echo "driver.sh: not in a mount namespace of its own ($ns)" >&2
	exit 77
fi
# unshare --propagation private did this already; again, in case.
mount --make-rprivate / || { echo "driver.sh: mount --make-rprivate / failed" >&2; exit 77; }

upper=$D/ov/upper work=$D/ov/work
rm -rf "$D/ov"
mkdir -p "$upper" "$work" || exit 77
printf '%s\n' "$LIB" > "$upper/ld.so.preload" || exit 77
if ! mount -t overlay overlay -o "lowerdir=/etc,upperdir=$upper,workdir=$work" /etc; then
	echo "driver.sh: cannot mount an overlay on /etc" >&2
	exit 77
fi

fstype=$(stat -f -c %T /etc)
content=$(cat /etc/ld.so.preload)
# a process started now (grep) must have the library
loaded=$(grep -c libft_malloc /proc/self/maps)
echo "driver.sh: /etc is $fstype; ld.so.preload: $content; grep's maps: $loaded lines" >&2
if [ "$fstype" != overlayfs ] || [ "$content" != "$LIB" ] || [ "${loaded:-0}" -lt 1 ]; then
	echo "driver.sh: the library is not preloaded" >&2
	exit 78
fi

sh "$HERE/workloads.sh" run "$D" "$@"
