#!/bin/sh
# ft_malloc.packages/packages.sh - install the Debian packages of FOLDER,
# check them as installed, remove them, check that nothing is left.
#
# Usage (as root): sh packages.sh FOLDER TOP_SRCDIR TMPDIR
# FOLDER holds what dpkg-buildpackage -us -uc -b made: one .changes and
# the .debs.  Prints PASS:/FAIL:/UNSUPPORTED: lines and FTM-END (read by
# packages.exp); exit 77, with the reason on stderr, when it must not run.
set -u
debs=$1
top=$2
tmp=$3/packages
rm -rf "$tmp"
mkdir -p "$tmp"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
check() {   # check NAME COMMAND...: PASS when COMMAND succeeds
	name=$1
	shift
	if "$@" >"$tmp/check.out" 2>&1; then pass "$name"; else
		fail "$name"
		sed 's/^/  | /' "$tmp/check.out" | head -n 40 >&2
	fi
}
end() { echo "FTM-END packages"; exit 0; }

# --- what was built -------------------------------------------------------
changes=$(ls "$debs"/*.changes 2>/dev/null)
set -- "$debs"/*.deb
if [ "$(echo "$changes" | grep -c .)" -ne 1 ] || [ ! -f "$1" ]; then
	fail "dpkg-buildpackage left one .changes and the .debs in $debs"
	end
fi
pass "dpkg-buildpackage left one .changes and $# .debs"
pkgs=
for deb in "$@"; do
	pkgs="$pkgs $(dpkg-deb -f "$deb" Package)"
done
for p in $pkgs; do
	if dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
		echo "$p is already installed here: remove it first (apt-get purge$pkgs)" >&2
		exit 77
	fi
done
for p in libft-malloc1 libft-malloc-dev ft-malloc; do
	case " $pkgs " in *" $p "*) ;; *) fail "package $p was built"; end ;; esac
done

# --- lintian: no error, no warning (info tags go to the log) -------------
if command -v lintian >/dev/null; then
	lintian --fail-on error,warning -I -E --pedantic "$changes" >"$tmp/lintian" 2>&1
	st=$?
	sed 's/^/lintian: /' "$tmp/lintian" >&2
	if [ $st -eq 0 ] && ! grep -q '^[EW]: ' "$tmp/lintian"; then
		pass "lintian: no error and no warning on the .changes"
	else
		fail "lintian: no error and no warning on the .changes ($(grep -c '^[EW]: ' "$tmp/lintian") found, exit $st)"
	fi
else
	echo "UNSUPPORTED: lintian is not installed"
fi

# --- install ----------------------------------------------------------------
preload_state() {   # how /etc/ld.so.preload is: absent, or its checksum
	if [ -e /etc/ld.so.preload ]; then sha256sum </etc/ld.so.preload; else echo absent; fi
}
preload_before=$(preload_state)
# From here on, whatever happens, the packages do not stay installed (a
# later run would refuse to start).
purge() {
	# shellcheck disable=SC2086
	dpkg-query -W -f='${db:Status-Status}\n' $pkgs 2>/dev/null | grep -qv '^not-installed$' &&
		apt-get purge -y -q $pkgs >/dev/null 2>&1
	return 0
}
trap purge EXIT
check "apt-get install ./*.deb" apt-get install -y -q "$@"
for p in libft-malloc1 libft-malloc-dev ft-malloc; do
	dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed ||
		{ fail "$p is installed"; end; }
done
check "installing leaves /etc/ld.so.preload as it was" \
	test "$(preload_state)" = "$preload_before"

# --- the installed files ------------------------------------------------------
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
lists() { for p in $pkgs; do dpkg -L "$p"; done; }
check "dpkg -L: the library in the multiarch folder /usr/lib/$ma" \
	sh -c "dpkg -L libft-malloc1 | grep -qx /usr/lib/$ma/libft_malloc.so.1"
check "dpkg -L: the .so link, the static library and ft_malloc.pc in /usr/lib/$ma" \
	sh -c "l=\$(dpkg -L libft-malloc-dev); for f in libft_malloc.so libft_malloc.a pkgconfig/ft_malloc.pc; do
		echo \"\$l\" | grep -qx /usr/lib/$ma/\$f || { echo missing \$f; exit 1; }; done"
lists | grep -E '\.la$|^/usr/lib/[^/]*\.(so|a)' >"$tmp/misplaced"
check "dpkg -L: no libtool .la, no library outside /usr/lib/$ma" sh -c "! grep . '$tmp/misplaced'"
pcl=$(pkg-config --libs ft_malloc 2>&1 | sed 's/ *$//')
check "pkg-config --libs ft_malloc prints -lft_malloc (it printed '$pcl')" test "$pcl" = "-lft_malloc"

# The library exports exactly the names of its symbols file.
symfile=$(ls /var/lib/dpkg/info/libft-malloc1:*.symbols /var/lib/dpkg/info/libft-malloc1.symbols 2>/dev/null | head -n 1)
nm -D --defined-only "/usr/lib/$ma/libft_malloc.so.1" | awk '{print $NF}' | sort >"$tmp/exported"
sed -n 's/^ \([^@]*\)@Base .*/\1/p' "$symfile" 2>/dev/null | sort >"$tmp/listed"
check "the library exports exactly the names of libft-malloc1.symbols" \
	sh -c "test -s '$tmp/listed' && diff '$tmp/listed' '$tmp/exported'"
check "the library is built with BIND_NOW and RELRO" \
	sh -c "readelf -d /usr/lib/$ma/libft_malloc.so.1 | grep -q 'FLAGS.*NOW' &&
	       readelf -lW /usr/lib/$ma/libft_malloc.so.1 | grep -q GNU_RELRO"

# man pages, found by man itself, rendered without warnings
for page in "ft_malloc" "3ft malloc" "3ft free" "3ft posix_memalign" "show_alloc_mem" \
	    "show_alloc_mem_ex" "ft-malloc"; do
	# shellcheck disable=SC2086
	check "man $page" sh -c "man -w $page | grep -q '^/usr/share/man/' &&
		MANWIDTH=80 man $page 2>&1 >'$tmp/page' && grep -q '^NAME' '$tmp/page' &&
		test \"\$(MANWIDTH=80 man --warnings $page 2>&1 >/dev/null)\" = ''"
done
check "ft-malloc --help" sh -c "ft-malloc --help | grep -q '^Usage: ft-malloc'"

# --- the autopkgtests, run as autopkgtest runs them -------------------------
tests=$(sed -n 's/^Tests: *//p' "$top/debian/tests/control")
[ -n "$tests" ] || fail "debian/tests/control names its tests"
for t in $tests; do
	d=$tmp/autopkgtest-$t
	mkdir -p "$d"
	if (cd "$d" && AUTOPKGTEST_TMP=$d "$top/debian/tests/$t") >"$d.out" 2>&1; then
		pass "autopkgtest $t"
	else
		fail "autopkgtest $t"
	fi
	sed "s/^/$t: /" "$d.out" >&2
done

# The same tests run by autopkgtest itself (its null runner: this machine,
# the packages installed above), which also reads debian/tests/control.
if command -v autopkgtest >/dev/null; then
	autopkgtest -B -o "$tmp/autopkgtest-out" "$top" -- null >"$tmp/autopkgtest.log" 2>&1
	st=$?
	sed 's/^/autopkgtest: /' "$tmp/autopkgtest-out/summary" >&2 2>/dev/null
	if [ $st -eq 0 ] && [ -n "$tests" ] &&
	   [ "$(grep -c ' PASS' "$tmp/autopkgtest-out/summary" 2>/dev/null)" -eq "$(echo $tests | wc -w)" ]; then
		pass "autopkgtest -B $top -- null: every test passes"
	else
		fail "autopkgtest -B $top -- null: every test passes (exit $st)"
		tail -n 40 "$tmp/autopkgtest.log" >&2
	fi
else
	echo "UNSUPPORTED: autopkgtest (the tool) is not installed"
fi

# --- system-wide use with the installed command ----------------------------
# ft_malloc.enable's script, in a private mount namespace with an overlay
# on /etc (never the real one), run with /usr/bin/ft-malloc: the line it
# adds is the multiarch path of the installed library.
if command -v unshare >/dev/null; then
	unshare --mount --propagation private \
		sh "$top/tests/ft_malloc.enable/enable.sh" /usr/bin/ft-malloc "$tmp" >"$tmp/enable.out" 2>&1
	st=$?
	if [ $st -eq 77 ]; then
		echo "UNSUPPORTED: installed ft-malloc --system: no private mount namespace or overlay here"
	else
		sed -n 's/^\(PASS\|FAIL\): /\1: installed ft-malloc --system: /p' "$tmp/enable.out"
		grep -q '^FTM-END' "$tmp/enable.out" && [ $st -eq 0 ] ||
			{ fail "installed ft-malloc --system: the script ran to its end (exit $st)"; cat "$tmp/enable.out" >&2; }
	fi
else
	echo "UNSUPPORTED: installed ft-malloc --system: no unshare(1)"
fi

# --- remove -------------------------------------------------------------------
lists | sort -u >"$tmp/files"
# Removed while enabled system-wide, in a private mount namespace with an
# overlay on /etc (remove.sh); the plain way if there is none.
st=77
if command -v unshare >/dev/null; then
	# shellcheck disable=SC2086
	unshare --mount --propagation private sh "$top/tests/ft_malloc.packages/remove.sh" "$tmp" $pkgs \
		>"$tmp/remove.out" 2>&1
	st=$?
fi
if [ $st -eq 77 ]; then
	echo "UNSUPPORTED: removal while enabled system-wide: no private mount namespace or overlay here"
	# shellcheck disable=SC2086
	check "apt-get remove$pkgs" apt-get remove -y -q $pkgs
else
	sed -n 's/^\(PASS\|FAIL\): /\1: /p' "$tmp/remove.out"
	grep -q '^FTM-END' "$tmp/remove.out" && [ $st -eq 0 ] ||
		{ fail "removal while enabled system-wide: remove.sh ran to its end (exit $st)"; cat "$tmp/remove.out" >&2; }
	ldconfig   # the loader's cache that the removal rebuilt inside the overlay
fi
: >"$tmp/left"
while IFS= read -r f; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	# a folder may stay when another package owns it too
	[ -d "$f" ] && [ ! -L "$f" ] && { [ "$f" = "/." ] || dpkg -S "$f" >/dev/null 2>&1; } && continue
	echo "$f" >>"$tmp/left"
done <"$tmp/files"
check "apt-get remove leaves no file behind ($(wc -l <"$tmp/files") paths checked)" \
	sh -c "! grep . '$tmp/left'"
check "apt-get remove leaves no package in config-files state" \
	sh -c "! dpkg-query -W -f='\${db:Status-Abbrev} \${Package}\n' $pkgs 2>/dev/null | grep '^rc'"
check "removing leaves /etc/ld.so.preload as it was" \
	test "$(preload_state)" = "$preload_before"
end
