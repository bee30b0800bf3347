#!/bin/sh
# check-synopsis.sh [mandir]: each program's usage matches the SYNOPSIS of
# its man page (STYLE.md: "a usage() that prints exactly the SYNOPSIS").
#
# For every page NAME.1 or NAME.8 in mandir (default man/ beside t/) whose
# program $TIKV_BUILD/bin/NAME exists: render the SYNOPSIS with mandoc,
# run "NAME -h" and take its usage (the first line that starts with
# "usage: " and the indented lines that follow it), drop "usage:", join
# the lines, collapse white space, and compare.  Exit 1 with a word diff
# on any mismatch.  Run by "make lint".

me=check-synopsis
here=$(cd "$(dirname "$0")" && pwd) || exit 1
mandir=${1:-$here/../man}
bindir=${TIKV_BUILD:-$here/../build}/bin

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-synopsis.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# One line: words separated by single spaces.
normalize () {
	tr '\n\t' '  ' | sed 's/  */ /g; s/^ //; s/ $//'
}

synopsis () {
	bs=$(printf '\b')
	mandoc -Tascii -O width=1000 "$1" | LC_ALL=C sed "s/.$bs//g" |
	    awk '/^[^ \t]/ { in_syn = ($0 == "SYNOPSIS"); next }
		in_syn' | normalize
}

# The usage block of "prog -h" on stdout or stderr, bounded in time in
# case the program does not know -h and starts serving.
usage () {
	timeout 10 "$1" -h </dev/null 2>&1 |
	    awk '/^usage: / { on = 1; sub(/^usage: /, ""); print; next }
		on && /^[ \t]+[^ \t]/ { print; next }
		on { exit }' | normalize
}

checked=0
failed=0
for page in "$mandir"/*.1 "$mandir"/*.8
do
	test -f "$page" || continue
	name=${page##*/}
	name=${name%.[18]}
	prog=$bindir/$name
	if ! test -x "$prog"
	then
		echo "$me: $name: not built, skipped"
		continue
	fi
	checked=$((checked + 1))
	man=$(synopsis "$page")
	use=$(usage "$prog")
	if test -z "$man"
	then
		echo "$me: $name: no SYNOPSIS in $page" >&2
		failed=$((failed + 1))
		continue
	fi
	if test -z "$use"
	then
		echo "$me: $name: '$name -h' printed no line starting with 'usage: '" >&2
		failed=$((failed + 1))
		continue
	fi
	if test "$man" = "$use"
	then
		echo "$me: $name: usage matches the SYNOPSIS of ${page##*/}"
		continue
	fi
	failed=$((failed + 1))
	printf '%s\n' "$man" | tr ' ' '\n' >"$tmp/man"
	printf '%s\n' "$use" | tr ' ' '\n' >"$tmp/usage"
	{
		echo "$me: $name: usage differs from the SYNOPSIS of ${page##*/}"
		echo "  SYNOPSIS: $man"
		echo "  usage:    $use"
		echo "  word by word:"
		diff -u --label "${page##*/} SYNOPSIS" --label "$name -h" \
		    "$tmp/man" "$tmp/usage" | sed 's/^/    /'
	} >&2
done

if test "$failed" != 0
then
	echo "$me: $failed of $checked program(s) differ from their man page" >&2
	exit 1
fi
echo "$me: $checked program(s) checked against their man page"
exit 0
