#!/bin/sh
# ft_malloc.system/workloads.sh - the workloads of system.exp.
#
#   sh workloads.sh prep D SRCTOP   make the shared inputs in D/data (once)
#   sh workloads.sh run D R ITEM... run the items; results in folder R
#   sh workloads.sh item D ITEM R   run one item (used by "run")
#
# The same script runs twice: outside (no library) and inside the private
# mount namespace where /etc/ld.so.preload names libft_malloc (driver.sh).
# Both runs use the same work folder D/w (emptied before each run), so the
# outputs may contain paths and still be compared byte for byte.  For each
# ITEM, "run" writes:
#   R/ITEM.out, R/ITEM.err  stdout and stderr (compared by system.exp)
#   R/ITEM.rc               exit status (124: timed out)
#   R/ITEM.maps             "grep -c libft_malloc /proc/self/maps" of a process
#                           started by the item (>= 1 inside, 0 outside)
#   R/ld/ITEM.PID           LD_DEBUG=libs output of every process of the item
#   R/ITEM.log              anything kept only for the log (not compared)
# What legitimately differs between two runs (timings, temporary names,
# the interleaving of parallel make) is left out of .out/.err by the items
# themselves; each place says so.
#
# The caller gives a clean environment (env -i PATH HOME LC_ALL=C TZ=UTC).

set -u
umask 022
SELF=$0
HERE=$(cd "$(dirname "$0")" && pwd)
mode=$1
D=$2
shift 2
W=$D/w
DATA=$D/data

# A fixed point in time for everything that records dates (git, touch).
FIXED_DATE="2021-03-04 05:06:07 UTC"

# --- prep: the shared inputs ---------------------------------------------

prep() {
	srctop=$1
	set -e
	mkdir -p "$DATA"
	cd "$DATA"

	# ~30 MB of lines from a seeded generator (the same file for both runs).
	awk 'BEGIN {
		srand(4242);
		split("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november", w, " ");
		for (i = 0; i < 630000; i++) {
			a = int(rand() * 14) + 1; b = int(rand() * 1000000); c = int(rand() * 2147483647);
			printf "%s %d %08x %s-%d %s\n", w[a], b, c, w[(i % 14) + 1], i % 977, substr("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, c % 30);
		}
	}' > big.txt
	head -c 4000000 big.txt > slice.txt

	# A tree of folders and files of varied sizes, fixed times and modes.
	awk -v top=tree 'BEGIN {
		x = 77;
		for (i = 0; i < 24; i++) {
			d = top "/d" i "/s" (i % 4);
			system("mkdir -p " d);
			for (j = 0; j < 12; j++) {
				f = d "/f" j ".txt";
				n = ((i * 12 + j) * 7919) % 900;
				for (k = 0; k < n; k++) {
					x = (x * 1103515245 + 12345) % 2147483648;
					printf "%d/%d/%d %x %s\n", i, j, k, x, substr("0123456789012345678901234567890123456789", 1, x % 40) > f;
				}
				close(f);
			}
		}
	}'
	mkdir -p tree/empty/deeper
	ln -s ../d1/s1/f1.txt tree/empty/link
	find tree -type d -exec chmod 755 {} +
	find tree -type f -exec chmod 644 {} +
	chmod 600 tree/d3/s3/f3.txt
	find tree -exec touch -h -d "$FIXED_DATE" {} +

	# An SQL workload: tables, thousands of inserts, joins, aggregates.
	awk 'BEGIN {
		srand(99);
		print "PRAGMA journal_mode=DELETE;";
		print "CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT);";
		print "CREATE TABLE product(id INTEGER PRIMARY KEY, label TEXT, price REAL);";
		print "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customer, product INTEGER REFERENCES product, qty INTEGER, note TEXT);";
		split("Paris Lyon Oslo Lima Kyiv Rome Bern Riga", city, " ");
		print "BEGIN;";
		for (i = 1; i <= 2000; i++)
			printf "INSERT INTO customer VALUES(%d, %cc%05d%c, %c%s%c);\n", i, 39, (i * 37) % 100000, 39, 39, city[(i % 8) + 1], 39;
		for (i = 1; i <= 500; i++)
			printf "INSERT INTO product VALUES(%d, %cp%d-%s%c, %.2f);\n", i, 39, i, substr("abcdefghijklmnopqrstuvwxyz", 1, i % 26 + 1), 39, (i * 13 % 997) / 7.0;
		for (i = 1; i <= 30000; i++)
			printf "INSERT INTO orders VALUES(%d, %d, %d, %d, %c%s%c);\n", i, int(rand() * 2000) + 1, int(rand() * 500) + 1, int(rand() * 9) + 1, 39, substr("note note note note note note note note", 1, int(rand() * 40)), 39;
		print "COMMIT;";
		print "CREATE INDEX orders_customer ON orders(customer);";
		print "CREATE INDEX orders_product ON orders(product);";
		print "SELECT count(*), sum(qty), total(length(note)) FROM orders;";
		print "SELECT c.city, count(*), sum(o.qty), printf(\"%.2f\", sum(o.qty * p.price)) FROM orders o JOIN customer c ON c.id = o.customer JOIN product p ON p.id = o.product GROUP BY c.city ORDER BY c.city;";
		print "SELECT p.label, sum(o.qty) AS n FROM orders o JOIN product p ON p.id = o.product GROUP BY p.id ORDER BY n DESC, p.label LIMIT 15;";
		print "SELECT c.name, group_concat(o.id, \",\") FROM customer c JOIN (SELECT * FROM orders ORDER BY id) o ON o.customer = c.id WHERE c.id % 250 = 0 GROUP BY c.id ORDER BY c.id;";
		print "SELECT customer, qty, sum(qty) OVER (PARTITION BY customer ORDER BY id) FROM orders WHERE customer < 4 ORDER BY customer, id;";
		print "UPDATE orders SET note = upper(note) || id WHERE qty > 6;";
		print "DELETE FROM orders WHERE qty = 1;";
		print "SELECT count(*), sum(length(note)) FROM orders;";
		print "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) SELECT count(*), sum(i), max(length(printf(\"%0*d\", i % 300, i))) FROM n;";
		print "CREATE TABLE words AS SELECT DISTINCT substr(note, 1, 12) AS w FROM orders;";
		print "SELECT count(*) FROM words;";
		print "VACUUM;";
		print "PRAGMA integrity_check;";
	}' > work.sql

	# A copy of ft_malloc's own sources: the files git knows (tracked, and
	# new ones not ignored), as they are in the source folder; or, in a
	# release tree that was never configured in place (make distcheck's),
	# the whole tree.  Else no copy: system.exp reports the build UNSUPPORTED.
	set +e
	if (cd "$srctop" && git ls-files -z -co --exclude-standard) > src.list &&
	    (cd "$srctop" && xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh) \
	    < src.list > src.files && mkdir -p src &&
	    (cd "$srctop" && tar --null -T - -cf -) < src.files | tar -C src -xf - &&
	    test -f src/configure.ac && test -x src/autogen.sh; then
		:
	elif rm -rf src && test -f "$srctop/configure.ac" && test -x "$srctop/autogen.sh" &&
	    test ! -f "$srctop/config.status" && cp -R "$srctop" src && chmod -R u+w src; then
		:
	else
		echo "workloads.sh: no copy of the sources of $srctop (not a git checkout?)" >&2
		rm -rf src
	fi
	rm -f src.list src.files
	return 0
}

# --- the items -------------------------------------------------------------

item_shell() {
	echo "== bash"
	bash <<'EOF'
set -o pipefail
fact() { local n=$1; if (( n <= 1 )); then echo 1; else echo $(( n * $(fact $((n - 1))) )); fi; }
echo "fact 20: $(fact 20)"
declare -A cnt
while read -r w; do cnt[$w]=$(( ${cnt[$w]:-0} + 1 )); done < <(for i in {1..3000}; do echo "k$(( (i * i * 7) % 97 ))"; done)
for k in $(printf '%s\n' "${!cnt[@]}" | sort -V | head -20); do printf '%s=%s ' "$k" "${cnt[$k]}"; done; echo
arr=(); for i in {1..3000}; do arr+=("item-$i-$(( i % 13 ))"); done
echo "${#arr[@]} ${arr[2999]} ${arr[*]:100:3}"
unset 'arr[5]' 'arr[7]'; arr=("${arr[@]}"); echo "${#arr[@]} ${arr[5]}"
s=""; for i in {1..3000}; do s+="${i}x"; done
echo "${#s} ${s:1000:20}"; echo "${s//x/}" | md5sum
echo "$( ( echo sub; ( echo subsub | tr a-z A-Z ); echo "$(echo nested $(echo deeper $(echo deepest)))" ) | paste -sd, )"
mapfile -t lines < <(seq 1 20000 | awk '{ print $1 * $1 % 1009 }' | sort -n | uniq -c | sort -k1,1nr -k2,2n | head -50)
printf '%s\n' "${lines[@]:0:5}"
{ echo to-out; echo to-err >&2; } 2>&1 | cat -n
x=$(cat <<INNER
here $((6 * 7)) $(echo inner | rev)
INNER
); echo "$x"
read -r a b c <<< "one two three four"; echo "$c|$b|$a"
big=$(seq 1 200000); echo "${#big} $(echo "$big" | tail -1)"
text=$(seq 1 20000 | sed 's/$/ line/' | tr 'a-z' 'A-Z' | grep -v 7 | tail -3); echo "$text"
diff <(seq 1 100) <(seq 1 100 | sed '50d;70s/$/!/')
echo "diff status: $?"
printf '%s\n' {z..a}{1..3} | sort | tr '\n' ' ' | fold -w 60; echo
IFS=: read -ra parts <<< "a:b::c:d"; echo "${#parts[@]} ${parts[*]}"
( exit 3 ); echo "subshell status $?"
false | true; echo "pipefail status $?"
EOF
	echo "bash status: $?"

	echo "== sh"
	sh <<'EOF'
n=$(seq 1 30000 | awk '{ print ($1 * 7919) % 10007 }' | sort -n | uniq | wc -l)
echo "distinct: $n"
set -- $(seq 1 500 | sed 's/^/w/')
echo "args: $# first: $1 last: $(eval echo \${$#})"
i=0; acc=""
while [ $i -lt 400 ]; do acc="$acc$(printf '%03d' $i)"; i=$((i + 1)); done
echo "${#acc}"
echo "$acc" | fold -w 64 | sed 's/0/o/g' | sort -r | head -4
for w in apple banana cherry; do
	case $w in
	a*) echo "$w starts with a" ;;
	*an*) echo "$w contains an" ;;
	*) echo "$w: other" ;;
	esac
done
f() { echo "f($*)"; [ $# -gt 0 ] && { shift; f "$@"; }; }
f 1 2 3
y=$( (echo one; echo two) | (read a; read b; echo "$b $a") )
echo "$y"
cut -d: -f1,3 /etc/passwd | sort -t: -k2,2n | md5sum
seq 1 5000 | while read -r l; do [ $((l % 1000)) -eq 0 ] && echo "at $l"; done
echo "$(echo "$(echo "$(echo deep)")")"
EOF
	echo "sh status: $?"
}

item_coreutils() {
	cd "$DATA" || return 1
	echo "== ls -lR"
	ls -lR tree
	echo "== du"
	du -a tree | sort -k2
	du -s --apparent-size tree
	du -sh tree
	echo "== find"
	find tree -type f -name '*3*' | sort | md5sum
	find tree -type d | sort
	find tree -type f -size +20k -printf '%s %m %p\n' | sort -k1,1n -k3
	find tree -newer tree/d1 | wc -l
	find tree -type l -printf '%p -> %l\n'
	echo "== sort"
	wc -l big.txt
	sort big.txt | md5sum
	mkdir -p "$W/sorttmp"
	# small buffer: sort must merge temporary files
	sort -S 4M -T "$W/sorttmp" -k2,2n -k1,1 big.txt | md5sum
	sort --parallel=2 -S 64M -k3,3 -k2,2n big.txt > "$W/sorted.txt"
	md5sum < "$W/sorted.txt"
	head -3 "$W/sorted.txt"; tail -3 "$W/sorted.txt"
	sort --parallel=2 -u -k1,1 big.txt | cut -d' ' -f1
	sort --parallel=2 -s -k4,4 big.txt | uniq -c -f3 -w 20 | sort -rn | head -5
	ls "$W/sorttmp" | wc -l
	rm -f "$W/sorted.txt"
}

item_python3() {
	PYTHONMALLOC=malloc PYTHONHASHSEED=0 /usr/bin/python3 "$HERE/workload.py" "$DATA/big.txt"
}

# Lines of process $1's maps naming libft_malloc; nothing if the C library
# is not mapped yet (the dynamic linker is not past the preloads).
maps_count() {
	awk '/libc[.]so[.]6/ { c = 1 } /libft_malloc/ { f++ } END { if (c) print f + 0 }' \
	    "/proc/$1/maps" 2>/dev/null
}

# Every few tenths of a second, the processes of the tree under pid $1 that
# have the C library mapped: "pid comm count" lines, count from maps_count.
sample_maps() {
	while kill -0 "$1" 2>/dev/null; do
		for p in $(ps -e -o pid=,ppid= | awk -v top="$1" '
			{ parent[$1] = $2 }
			END {
				for (p in parent) {
					q = p
					for (n = 0; n < 64 && q != "" && q > 1; n++) {
						if (q == top) { print p; break }
						q = parent[q]
					}
				}
			}'); do
			c=$(maps_count "$p")
			# a read that met an exec half-way (the old image's first
			# page, the new one's rest) lacks the library: read again
			[ "$c" = 0 ] && sleep 0.05 && c=$(maps_count "$p")
			[ -n "$c" ] && echo "$p $(cat "/proc/$p/comm" 2>/dev/null) $c"
		done
		sleep 0.3
	done
}

item_python3_tests() {
	# The test suite of the system's python; only the summary is compared
	# (the progress lines carry timings and load averages: kept in the log).
	# No LD_DEBUG here: test_subprocess fails under it (the dynamic linker
	# keeps LD_DEBUG_OUTPUT's descriptor open in every child, and a child
	# run as nobody writes its debug output to stderr).  The processes'
	# /proc/PID/maps are sampled instead (R/python3-tests.samples).
	unset LD_DEBUG LD_DEBUG_OUTPUT
	mkdir -p "$W/pytmp"
	# python runs in the foreground (a background job of sh ignores SIGINT,
	# which test_threading sends itself); the sampler waits for its pid.
	rm -f pytests.pid
	(
		while [ ! -s pytests.pid ]; do sleep 0.1; done
		sample_maps "$(cat pytests.pid)"
	) > "$R/python3-tests.samples" &
	sampler=$!
	TMPDIR=$W/pytmp PYTHONHASHSEED=0 PYTHONMALLOC=malloc \
	    sh -c 'echo $$ > pytests.pid; exec /usr/bin/python3 -m test \
		test_json test_re test_threading test_subprocess' \
	    < /dev/null > "$R_LOG" 2>&1
	st=$?
	[ -s pytests.pid ] || echo x > pytests.pid
	wait $sampler
	sed -n '/^== Tests result/,$p' "$R_LOG" | grep -v '^Total duration'
	return $st
}

item_perl() {
	perl -e '
		my $f = shift;
		open(my $fh, "<", $f) or die "$f: $!";
		my $all = do { local $/; <$fh> };
		close($fh);
		print length($all), "\n";
		my @lines = split /\n/, $all;
		my (%first, %num, @keep);
		for my $l (@lines) {
			my ($w, $n, $h, $t, $x) = split / /, $l;
			$first{$w}++;
			$num{substr($h, 0, 2)} += $n;
			push @keep, sprintf("%s:%07d:%s", uc($w), $n, $t) if $n % 97 == 0;
		}
		print join(" ", map { "$_=$first{$_}" } sort keys %first), "\n";
		my @top = (sort { $num{$b} <=> $num{$a} or $a cmp $b } keys %num)[0 .. 9];
		print join(" ", map { "$_=$num{$_}" } @top), "\n";
		@keep = sort @keep;
		print scalar(@keep), " $keep[0] $keep[-1]\n";
		(my $s = $all) =~ s/([a-z]+) (\d+)/$2 $1/g;
		$s =~ tr/a-f/A-F/;
		my $c = () = $s =~ /\bECho\b/g;
		print length($s), " $c\n";
		my %h;
		for my $i (1 .. 100000) {
			my $k = pack("N n", $i * 2654435761 % 4294967296, $i % 65536);
			$h{$k} = [ $i, "v" x ($i % 17) ];
			delete $h{pack("N n", ($i - 5) * 2654435761 % 4294967296, ($i - 5) % 65536)} if $i % 3 == 0;
		}
		my $sum = 0; $sum += $_->[0] + length($_->[1]) for values %h;
		print scalar(keys %h), " $sum\n";
		my @parts = map { join("-", reverse split //) } grep { /7/ } map { $_ * 3 } 1 .. 50000;
		print scalar(@parts), " $parts[-1]\n";
		print join(",", map { sprintf "%.3e", $_ ** 1.5 } 1 .. 8), "\n";
	' "$DATA/big.txt"
}

item_git() {
	export GIT_CONFIG_NOSYSTEM=1 HOME=$W/home
	export GIT_AUTHOR_NAME="Ada Tester" GIT_AUTHOR_EMAIL=ada@example.org
	export GIT_COMMITTER_NAME="Bob Committer" GIT_COMMITTER_EMAIL=bob@example.org
	mkdir -p "$HOME"
	git init -q -b main repo || return 1
	cd repo || return 1
	git config pack.threads 1
	t=1600000000
	i=0
	while [ $i -lt 40 ]; do
		t=$((t + 3600))
		export GIT_AUTHOR_DATE="@$t +0000" GIT_COMMITTER_DATE="@$t +0000"
		seq $i $((i * 50)) > "num$((i % 7)).txt"
		sed -n "1,$((i * 20))p" "$DATA/big.txt" > data.txt
		[ $((i % 5)) -eq 0 ] && cp "$DATA/tree/d$((i % 24))/s$((i % 4))/f3.txt" "copy$i.txt"
		[ $i -eq 25 ] && git rm -q copy5.txt
		git add -A && git commit -q -m "commit $i" -m "body of commit $i" || return 1
		if [ $i -eq 20 ]; then
			git checkout -q -b side
			echo side > side.txt; git add side.txt
			git commit -q -m "side work" || return 1
			git checkout -q main
		fi
		i=$((i + 1))
	done
	t=$((t + 60)); export GIT_AUTHOR_DATE="@$t +0000" GIT_COMMITTER_DATE="@$t +0000"
	git merge -q --no-edit side || return 1
	git tag -a v1 -m "tag v1"
	git log --graph --format='%H %an %ae %ad %s' --date=iso-strict | head -60
	git log --stat --format='%h %s' -5
	git show --stat HEAD~3
	git diff HEAD~10 HEAD | md5sum
	git blame -s num3.txt | tail -3
	git gc -q --aggressive || return 1
	git count-objects -v | grep -E '^(count|in-pack|packs|garbage)'
	git fsck --full --strict && echo "fsck ok"
	git rev-list --all --objects | wc -l
	git archive --format=tar HEAD | md5sum
	git describe --tags
	git ls-tree -r HEAD | md5sum
}

item_build() {
	# ft_malloc built from a copy of its sources.  Compared: the output of
	# autogen.sh and configure, the exit statuses, the exported symbols of
	# the library.  make -j2's output (its interleaving varies) is in the log.
	cp -a "$DATA/src" ftm || return 1
	cd ftm || return 1
	./autogen.sh 2>&1 || { echo "autogen.sh failed"; return 1; }
	./configure 2>&1 || { echo "configure failed"; return 1; }
	make -j2 > "$R_LOG" 2>&1 || { echo "make failed"; return 1; }
	echo "make: ok"
	nm -D --defined-only .libs/libft_malloc.so.1
}

item_tar_xz() {
	set -e
	mkdir out
	tar --sort=name --owner=0 --group=0 --numeric-owner -C "$DATA" -cf - tree slice.txt |
	    xz -T2 -3 --block-size=1MiB > t.tar.xz
	xz -T2 -t t.tar.xz
	xz -T2 -l t.tar.xz | sed -n 2p
	xz -T2 -dc t.tar.xz | tar -C out -xf -
	diff -r "$DATA/tree" out/tree && cmp "$DATA/slice.txt" out/slice.txt && echo "round trip identical"
	xz -dc t.tar.xz | tar -tvf - | head -40
	cksum < t.tar.xz
	tar --sort=name -cf - -C out tree | xz -T2 -1e --block-size=256KiB | xz -T2 -dc | tar -tf - | wc -l
}

item_sqlite3() {
	sqlite3 -batch db.sqlite < "$DATA/work.sql" || return 1
	sqlite3 -batch db.sqlite "SELECT count(*) FROM orders; PRAGMA integrity_check;"
	sqlite3 -batch db.sqlite .dump | md5sum
}

item_dpkg() {
	dpkg -L coreutils
	dpkg -s coreutils
	dpkg-query -W -f '${Package} ${Version} ${Status}\n' | sort | md5sum
}

item_apt_cache() {
	# no cache files written: apt builds its cache in memory
	apt-cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= show coreutils
	apt-cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= depends coreutils
	apt-cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= policy coreutils
}

# Secure-execution mode.  LD_DEBUG is unset: the dynamic linker of a setuid
# program ignores LD_DEBUG_OUTPUT and would write its debug output to stderr.
# FT_MALLOC_SHOW_AT_EXIT=1 is set for everything here; setpriv itself does
# not exit (it execs), so it never prints a heap map.  stdout and stderr of
# the real setuid programs are compared with the run outside; the probe's
# outputs go to extra files that system.exp checks one by one.
item_secure() {
	unset LD_DEBUG LD_DEBUG_OUTPUT
	export FT_MALLOC_SHOW_AT_EXIT=1
	asnobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	echo "== passwd --help as nobody"
	$asnobody passwd --help; echo "status $?"
	echo "== su --help as nobody"
	$asnobody su --help; echo "status $?"
	# a process of nobody (not setuid) has the library too (0 outside)
	$asnobody grep -c libft_malloc /proc/self/maps > "$R/secure.nobody.maps"
	# the probe: setuid root run by nobody, then plain as root and nobody
	$asnobody "$D/suid/secure_probe" > "$R/secure.suid.out" 2> "$R/secure.suid.err"
	echo $? > "$R/secure.suid.rc"
	"$D/plain/secure_probe" > "$R/secure.root.out" 2> "$R/secure.root.err"
	echo $? > "$R/secure.root.rc"
	$asnobody "$D/plain/secure_probe" > "$R/secure.nobody.out" 2> "$R/secure.nobody.err"
	echo $? > "$R/secure.nobody.rc"
	return 0
}

# --- running ---------------------------------------------------------------

case $mode in
prep)
	prep "$1"
	;;
item)
	name=$1
	R=$2
	R_LOG=$R/$name.log
	mkdir -p "$W/$name"
	cd "$W/$name" || exit 1
	grep -c libft_malloc /proc/self/maps > "$R/$name.maps"
	"item_$(echo "$name" | tr - _)"
	;;
run)
	R=$1
	shift
	rm -rf "$W"
	mkdir -p "$W/ld" "$W/home" "$R/ld"
	export HOME="$W/home"
	for name in "$@"; do
		t0=$(date +%s)
		LD_DEBUG=libs LD_DEBUG_OUTPUT="$W/ld/$name" \
		    timeout -k 10 "${FTM_ITEM_TIMEOUT:-200}" sh "$SELF" item "$D" "$name" "$R" \
		    > "$R/$name.out" 2> "$R/$name.err"
		echo $? > "$R/$name.rc"
		find "$W/ld" -maxdepth 1 -type f -name "$name.*" -exec mv -t "$R/ld" {} +
		rm -rf "$W/$name"
		echo "$name $(($(date +%s) - t0)) s" >> "$R/times"
	done
	rm -rf "$W"
	;;
*)
	echo "workloads.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
