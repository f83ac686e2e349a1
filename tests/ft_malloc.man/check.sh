#!/bin/sh
# ft_malloc.man/check.sh - the manual pages cannot drift from the code.
#
# Usage: check.sh TOP_SRCDIR TOP_BUILDDIR TMPDIR CC
# Prints PASS:/FAIL:/UNSUPPORTED: lines and FTM-END (read by man.exp).
#  - every template man/*.in was generated into TOP_BUILDDIR/man, with no
#    @PLACEHOLDER@ left;
#  - groff -man -ww -z and mandoc -T lint say nothing about any page;
#  - the EXAMPLES program of each section-3 page that has one compiles
#    with -Wall -Wextra -Werror against the built library and exits 0;
#  - the FT_MALLOC_* variables of ft_malloc(3)'s ENVIRONMENT are exactly
#    those src/env.c reads, and those of README.md's table;
#  - the options ft-malloc(1) documents are exactly those the script takes;
#  - after make install-man into a prefix, man -M finds ft_malloc,
#    3ft malloc (and a .so link page), show_alloc_mem, show_alloc_mem_ex
#    and ft-malloc.
set -u
top_srcdir=$1
top_builddir=$2
tmp=$3/man-check
cc=$4
rm -rf "$tmp"
mkdir -p "$tmp/tree/man1" "$tmp/tree/man3"

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
check() {   # check NAME COMMAND...: PASS if the command succeeds
	name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then pass "$name"; else fail "$name -- $(head -c 400 "$tmp/out" | tr '\n' ' ')"; fi
}

# ---- generated pages ------------------------------------------------------
pages=
for in in "$top_srcdir"/man/*.in; do
	page=$(basename "$in" .in)
	gen=$top_builddir/man/$page
	pages="$pages $page"
	if [ ! -f "$gen" ]; then
		fail "$page: generated from its template"
		continue
	fi
	if grep -n '@[A-Z_]*@' "$gen" >"$tmp/out"; then
		fail "$page: every placeholder filled -- $(head -c 200 "$tmp/out")"
	else
		pass "$page: generated, every placeholder filled"
	fi
	case $page in
	*.1) cp "$gen" "$tmp/tree/man1/" ;;
	*) cp "$gen" "$tmp/tree/man3/" ;;
	esac
done

# ---- lint -------------------------------------------------------------------
lint_empty() {   # lint_empty TOOL ARGS... FILE: the tool prints nothing
	(cd "$tmp/tree" && "$@") >"$tmp/lint" 2>&1
	[ ! -s "$tmp/lint" ] || { cat "$tmp/lint"; return 1; }
}
for page in $pages; do
	case $page in *.1) f=man1/$page ;; *) f=man3/$page ;; esac
	check "$page: groff -man -ww -z reports nothing" lint_empty groff -man -ww -z "$f"
	if ! command -v mandoc >/dev/null 2>&1; then
		:
	elif [ "$(wc -l <"$tmp/tree/$f")" -eq 1 ] && grep -q '^\.so man[13]/' "$tmp/tree/$f"; then
		# a link page: mandoc's one remark is that .so exists at all
		# ("prefer ln(1)"; dh_installman turns them into links)
		check "$page: a .so link page; mandoc -T lint says nothing else" \
			lint_empty sh -c 'mandoc -T lint "$1" 2>&1 | grep -v "WARNING: \.so is fragile"' sh "$f"
	else
		check "$page: mandoc -T lint reports nothing" lint_empty mandoc -T lint "$f"
	fi
	command -v mandoc >/dev/null 2>&1 ||
		echo "UNSUPPORTED: $page: mandoc -T lint (mandoc is not installed)"
done

# ---- EXAMPLES -----------------------------------------------------------------
# The program between .EX and .EE in the EXAMPLES section; the pages use no
# escape there but \e (a backslash) and \- (a minus).
example_of() {
	awk '/^\.SH EXAMPLES/ { ex = 1; next }
	     /^\.SH / { ex = 0 }
	     ex && /^\.EX/ { on = 1; next }
	     ex && /^\.EE/ { on = 0; exit }
	     on { gsub(/\\e/, "\\"); gsub(/\\-/, "-"); print }' "$1"
}
run_example() {   # run_example PAGE
	src=$tmp/$1.c
	example_of "$top_builddir/man/$1" >"$src"
	[ -s "$src" ] || { echo "no program in EXAMPLES"; return 1; }
	$cc -Wall -Wextra -Werror -std=gnu11 -I"$top_srcdir/include" "$src" -o "$tmp/$1.exe" \
	    -L"$top_builddir/.libs" -lft_malloc -Wl,-rpath,"$top_builddir/.libs" || return 1
	"$tmp/$1.exe" </dev/null >"$tmp/$1.stdout" 2>&1 || { cat "$tmp/$1.stdout"; return 1; }
	# it ran on ft_malloc: the library is in its maps while it runs
	LD_DEBUG=libs "$tmp/$1.exe" </dev/null 2>&1 >/dev/null | grep -q 'libft_malloc' ||
		{ echo "did not load libft_malloc"; return 1; }
}
for page in $pages; do
	case $page in *.1) continue ;; esac
	grep -q '^\.SH EXAMPLES' "$top_builddir/man/$page" 2>/dev/null || continue
	check "$page: the EXAMPLES program compiles and exits 0" run_example "$page"
done

# ---- ENVIRONMENT --------------------------------------------------------------
sed -n 's/.*starts(rest, "\([A-Z_]*\)=".*/FT_MALLOC_\1/p' "$top_srcdir/src/env.c" | sort -u >"$tmp/env.code"
# the tag lines of ENVIRONMENT's .TP entries
tp_tags() {   # tp_tags SECTION FILE
	awk -v sec="$1" '$0 == ".SH " sec { on = 1; next } /^\.SH / { on = 0 }
	     on && tp { print } { tp = on && $0 == ".TP" }' "$2"
}
tp_tags ENVIRONMENT "$top_builddir/man/ft_malloc.3" |
	sed -n 's/^\.B \(FT_MALLOC_[A-Z_]*\)$/\1/p' | sort -u >"$tmp/env.man"
sed -n 's/^| `\(FT_MALLOC_[A-Z_]*\)` |.*/\1/p' "$top_srcdir/README.md" | sort -u >"$tmp/env.readme"
same_list() {   # same_list A B: the same lines, else the difference
	if [ ! -s "$1" ]; then echo "$1 is empty"; return 1; fi
	diff "$1" "$2"
}
check "ft_malloc.3: ENVIRONMENT names every variable src/env.c reads, and no other" \
	same_list "$tmp/env.code" "$tmp/env.man"
check "README.md: the variables table names every variable src/env.c reads, and no other" \
	same_list "$tmp/env.code" "$tmp/env.readme"

# ---- ft-malloc options ----------------------------------------------------------
sed -n 's/^[[:space:]]*\(--[a-z][a-z-]*\)[=*)|].*/\1/p' \
	"$top_srcdir/tools/ft-malloc.in" | sort -u >"$tmp/opt.code"
tp_tags OPTIONS "$top_builddir/man/ft-malloc.1" | sed 's/\\-/-/g' |
	sed -n 's/^\.B[IR]* \(--[a-z][a-z-]*\).*/\1/p' | sort -u >"$tmp/opt.man"
check "ft-malloc.1: documents every option the command takes, and no other" \
	same_list "$tmp/opt.code" "$tmp/opt.man"

# ---- installed, and found by man ----------------------------------------------
prefix=$tmp/prefix
if make -C "$top_builddir" install-man prefix="$prefix" >"$tmp/install.log" 2>&1; then
	pass "make install-man into a prefix"
	if command -v man >/dev/null 2>&1; then
		shown() {   # shown WORD ARGS...: man -M shows a page that mentions WORD
			w=$1
			shift
			MANPAGER=cat MANWIDTH=80 man -M "$prefix/share/man" "$@" >"$tmp/man.out" 2>&1 &&
				grep -q "$w" "$tmp/man.out" || { head -c 300 "$tmp/man.out"; return 1; }
		}
		check "man -M PREFIX/share/man ft_malloc" shown FT_MALLOC_ON_MISUSE ft_malloc
		check "man -M PREFIX/share/man 3ft malloc" shown reallocarray 3ft malloc
		check "man -M PREFIX/share/man 3ft free (a link page)" shown reallocarray 3ft free
		check "man -M PREFIX/share/man 3ft posix_memalign" shown pvalloc 3ft posix_memalign
		check "man -M PREFIX/share/man show_alloc_mem" shown 'Total' show_alloc_mem
		check "man -M PREFIX/share/man show_alloc_mem_ex" shown 'Total' show_alloc_mem_ex
		check "man -M PREFIX/share/man ft-malloc" shown '\-\-show-at-exit\|--show-at-exit' ft-malloc
	else
		echo "UNSUPPORTED: man -M finds the installed pages (man is not installed)"
	fi
else
	fail "make install-man into a prefix -- $(tail -c 300 "$tmp/install.log" | tr '\n' ' ')"
fi

echo "FTM-END man"
