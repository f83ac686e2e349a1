# lib/etc_overlay.sh - sourced by the test scripts that write
# /etc/ld.so.preload (ft_malloc.enable/enable.sh,
# ft_malloc.packages/remove.sh), which run under
# unshare --mount --propagation private: an overlay on /etc in that mount
# namespace, so that what they write lands in a folder of theirs and the
# real /etc is never written.
#
# ftm_etc_overlay DIR: the overlay's upper and work folders go in DIR;
# exits 77 (the caller's "cannot test here") when the script is not in a
# mount namespace of its own or the overlay cannot be mounted.
ftm_etc_overlay() {
	mkdir -p "$1/upper" "$1/work" || exit 77
	[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
		{ echo "${0##*/}: not in a mount namespace of its own" >&2; exit 77; }
	mount --make-rprivate / 2>/dev/null || exit 77
	mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc || exit 77
}
