#!/bin/sh
test_description='regions split by size and by keys as data arrives, and by hand; every key stays readable, scans and checksums cross the region boundaries, and stale epochs and wrong regions are refused'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

CLUSTER_TOML='[coprocessor]
region-max-size = "64KiB"
region-split-size = "32KiB"
region-max-keys = 150
region-split-keys = 100'

NKEYS=1000

if tikv-ctl -h 2>&1 | grep -q 'split-region key'
then
	test_set_prereq CTL_SPLIT
fi

# pdd's regions as "id start end conf_ver version peers leader" lines, in
# key order; the bounds of these tests never hold spaces.
regions () {
	pd 'SCAN_REGIONS "" ""' >regions.raw &&
	tail -n 1 regions.raw | grep -q '^END' &&
	sed -n 's/^VALUE //p' regions.raw
}

# Succeeds once pdd's region list is the same twice, a second apart: the
# splits are over.
regions_settled () {
	regions >settle.1 &&
	sleep 1 &&
	regions >settle.2 &&
	test_cmp settle.1 settle.2 >/dev/null
}

# The token a client would send for key $1: "id:conf_ver:version".
ctx_of () {
	pd "GET_REGION $1" |
	awk '$1 == "OK" { print $2 ":" $5 ":" $6; ok = 1 } END { exit !ok }'
}

# The keys a scan printed, one a line (plain output: "key value").
scan_keys () {
	ctl raw scan -k "$@" >scan.raw &&
	cut -d" " -f1 scan.raw
}

# Store $1 lists region $2 with version $3 and three voters.
store_has_region () {
	store "$1" REGIONS >"regions-s$1.out" &&
	awk -v id="$2" -v ver="$3" '$1 == "VALUE" && $2 == id &&
	    $6 == ver { n = split($7, p, ","); v = 0
		for (i = 1; i <= n; i++) if (p[i] ~ /:v$/) v++
		if (v == 3) ok = 1 }
	END { exit !ok }' "regions-s$1.out"
}

test_expect_success 'three stores serve one region' '
	cluster_start 3 &&
	cluster_wait_voters 3 &&
	test "$(cluster_nregions)" = 1
'

test_expect_success 'a region past region-max-size splits, though it has few keys' '
	head -c 8192 /dev/zero | tr "\\0" x >big.value &&
	for i in 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15
	do
		ctl raw put "big$i" "$(cat big.value)" || return 1
	done &&
	test_wait_until 30 "test \$(cluster_nregions) -ge 2" &&
	test_wait_until 30 regions_settled &&
	cat settle.2 &&
	ctl raw get big07 >got &&
	test "$(wc -c <got)" = $((6 + 8192 + 1)) &&
	ctl raw checksum >sum &&
	test "$(cut -d" " -f1 sum)" = 16
'

test_expect_success "$NKEYS keys loaded through the client split the regions by count" '
	raw_load -p "$pd_addr" -c 8 -n $NKEYS -k key -o ack >load.out &&
	cat load.out &&
	test_line_count = $NKEYS ack &&
	sort ack >keys &&
	test_wait_until 60 "test \$(cluster_nregions) -ge 6" &&
	test_wait_until 60 regions_settled &&
	cat settle.2 &&
	test "$(wc -l <settle.2)" -ge 6
'

test_expect_success 'every region pdd knows has three voters, on three stores' '
	awk "{ n = split(\$6, p, \",\"); v = 0; s = \"\"
		for (i = 1; i <= n; i++) if (p[i] ~ /:v\$/) v++
		if (v != 3) { print \"region \" \$1 \": \" \$6; bad = 1 } }
		END { exit bad }" settle.2 &&
	while read -r id start end cv ver peers leader
	do
		for i in 1 2 3
		do
			test_wait_until 30 "store_has_region $i $id $ver" ||
				return 1
		done
	done <settle.2
'

test_expect_success 'every loaded key reads back' '
	raw_load -p "$pd_addr" -V ack >verify.out &&
	echo "$NKEYS keys verified" >expect &&
	test_cmp expect verify.out
'

test_expect_success 'a forward scan crosses every region boundary in order' '
	scan_keys -l 0 key kez >actual &&
	test_cmp keys actual &&
	scan_keys -l 0 >all &&
	grep "^big" all >big &&
	test_line_count = 16 big &&
	grep -v "^big" all >actual &&
	test_cmp keys actual
'

test_expect_success 'a reverse scan returns the same keys backwards' '
	sort -r keys >expect &&
	scan_keys -r -l 0 key kez >actual &&
	test_cmp expect actual &&
	scan_keys -r -l 0 >all &&
	sed -n "1,${NKEYS}p" all >actual &&
	test_cmp expect actual
'

test_expect_success 'scans with limits that span regions stop at the limit' '
	sort keys big >allkeys &&
	second=$(cut -d" " -f2 settle.2 | grep "^key" | sed -n 1p) &&
	echo "from $second" &&
	awk -v s="$second" "\$0 >= s" allkeys | sed -n 1,400p >expect &&
	test_line_count = 400 expect &&
	scan_keys -l 400 "$second" >actual &&
	test_cmp expect actual &&
	last=$(tail -n 1 expect) &&
	awk -v s="$last" "\$0 < s" allkeys | sort -r | sed -n 1,400p >expect &&
	test_line_count = 400 expect &&
	scan_keys -r -l 400 "" "$last" >actual &&
	test_cmp expect actual &&
	awk -v a="$second" -v b="$last" "\$0 >= a && \$0 < b" allkeys >expect &&
	scan_keys -l 0 "$second" "$last" >actual &&
	test_cmp expect actual &&
	sort -r expect >expect.r &&
	scan_keys -r -l 0 "$second" "$last" >actual &&
	test_cmp expect.r actual
'

test_expect_success 'a scan from each region start, exactly one region long' '
	sed 1d settle.2 >inner &&
	while read -r id start end cv ver peers leader
	do
		if test "$end" = "\"\""
		then
			awk -v a="$start" "\$0 >= a" allkeys >expect
		else
			awk -v a="$start" -v b="$end" "\$0 >= a && \$0 < b" \
				allkeys >expect
		fi &&
		n=$(wc -l <expect) &&
		if test "$n" = 0
		then
			continue
		fi &&
		scan_keys -l "$n" "$start" >actual &&
		test_cmp expect actual &&
		if test "$end" != "\"\""
		then
			sort -r expect >expect.r &&
			scan_keys -r -l "$n" a "$end" >actual.r &&
			test_cmp expect.r actual.r
		fi || return 1
	done <inner
'

test_expect_success 'the checksum of all regions counts every key' '
	ctl raw checksum key kez >sum &&
	cat sum &&
	test "$(cut -d" " -f1 sum)" = $NKEYS &&
	ctl raw checksum >sum.all &&
	test "$(cut -d" " -f1 sum.all)" = $((NKEYS + 16)) &&
	mid=$(sed -n 500p keys) &&
	ctl raw checksum key "$mid" >sum.a &&
	ctl raw checksum "$mid" kez >sum.b &&
	test "$(cut -d" " -f1 sum.a)" = 499 &&
	test $(($(cut -d" " -f1 sum.a) + $(cut -d" " -f1 sum.b))) = $NKEYS &&
	test $(($(cut -d" " -f2 sum.a) + $(cut -d" " -f2 sum.b))) = \
		"$(cut -d" " -f2 sum)"
'

test_expect_success 'SPLIT_REGION splits a region in two and bumps its epoch' '
	pd "GET_REGION key0000000500" >old &&
	read -r ok rid rstart rend rcv rver rpeers rleader <old &&
	test "$ok" = OK &&
	awk -v a="$rstart" -v b="$rend" "\$0 > a && \$0 < b" keys >inside &&
	test "$(wc -l <inside)" -ge 4 &&
	splitkey=$(sed -n "$(($(wc -l <inside) / 2))p" inside) &&
	below=$(awk -v k="$splitkey" "\$0 < k" inside | tail -n 1) &&
	echo "region $rid [$rstart, $rend) version $rver at $splitkey" &&
	lead=$(cluster_lead_store $rid 1 2 3 | cut -d" " -f1) &&
	store $lead "SPLIT_REGION $rid:$rcv:$rver $splitkey" >split.out &&
	cat split.out &&
	read -r ok lid lstart lend lcv lver lpeers \
		nid nstart nend ncv nver npeers <split.out &&
	test "$ok" = OK &&
	test "$lstart $lend" = "$rstart $splitkey" &&
	test "$nstart $nend" = "$splitkey $rend" &&
	test "$lver" -gt "$rver" &&
	test "$nver" -gt "$rver" &&
	test "$lid" != "$nid" &&
	echo "left $lid version $lver, right $nid version $nver"
'

test_expect_success 'a request with the old epoch gets EPOCH_NOT_MATCH' '
	store $lead "RAW_GET $rid:$rcv:$rver $below" >reply &&
	cat reply &&
	read -r word theirs <reply &&
	test "$word" = EPOCH_NOT_MATCH &&
	grep -E "^EPOCH_NOT_MATCH $lid " reply &&
	store $lead "RAW_PUT $rid:$rcv:$rver $below other" >reply &&
	grep "^EPOCH_NOT_MATCH" reply &&
	ctl raw get "$below" >got &&
	! grep other got
'

test_expect_success 'the left region refuses a key now in the right one' '
	store $lead "RAW_GET $lid:$lcv:$lver $splitkey" >reply &&
	cat reply &&
	grep "^KEY_NOT_IN_REGION $splitkey $lid " reply &&
	store $lead "RAW_PUT $nid:$ncv:$nver $below other" >reply &&
	grep "^KEY_NOT_IN_REGION $below $nid " reply &&
	test_wait_until 30 "cluster_lead_store $lid 1 2 3 >lead.l" &&
	store $(cut -d" " -f1 lead.l) "RAW_GET $lid:$lcv:$lver $below" >reply &&
	grep "^VALUE " reply &&
	test_wait_until 30 "cluster_lead_store $nid 1 2 3 >lead.r" &&
	store $(cut -d" " -f1 lead.r) "RAW_GET $nid:$ncv:$nver $splitkey" \
		>reply &&
	grep "^VALUE " reply
'

test_expect_success 'both halves have three voters on every store, and pdd knows them' '
	for i in 1 2 3
	do
		test_wait_until 30 "store_has_region $i $lid $lver &&
			store_has_region $i $nid $nver" || return 1
	done &&
	test_wait_until 30 "ctx_of $splitkey >ctx &&
		test \$(cat ctx) = $nid:$ncv:$nver" &&
	test_wait_until 30 "ctx_of $below >ctx &&
		test \$(cat ctx) = $lid:$lcv:$lver"
'

test_expect_success 'the client follows the split: writes, reads, scans' '
	ctl raw put "${splitkey}x" right &&
	ctl raw put "${below}x" left &&
	echo "${splitkey}x right" >expect &&
	ctl raw get "${splitkey}x" >actual &&
	test_cmp expect actual &&
	echo "${below}x left" >expect &&
	ctl raw get "${below}x" >actual &&
	test_cmp expect actual &&
	{ cat keys && echo "${splitkey}x" && echo "${below}x"; } |
		sort >expect &&
	scan_keys -l 0 key kez >actual &&
	test_cmp expect actual &&
	ctl raw delete "${splitkey}x" &&
	ctl raw delete "${below}x" &&
	scan_keys -l 0 key kez >actual &&
	test_cmp keys actual
'

test_expect_success 'SPLIT_REGION refuses the empty key, a region start, a key of another region' '
	store $lead "SPLIT_REGION - \"\"" >reply &&
	grep "^CLIENT_ERROR" reply &&
	store $lead "SPLIT_REGION $nid:$ncv:$nver $splitkey" >reply &&
	cat reply &&
	grep "^CLIENT_ERROR" reply &&
	store $lead "SPLIT_REGION $lid:$lcv:$lver $splitkey" >reply &&
	cat reply &&
	grep "^KEY_NOT_IN_REGION" reply &&
	test "$(cluster_nregions)" = "$(($(wc -l <settle.2) + 1))"
'

test_expect_success 'SPLIT_REGION with the old epoch gets EPOCH_NOT_MATCH' '
	other=$(sed -n 2p inside) &&
	store $lead "SPLIT_REGION $rid:$rcv:$rver $other" >reply &&
	cat reply &&
	grep "^EPOCH_NOT_MATCH" reply
'

test_expect_success CTL_SPLIT 'tikv-ctl split-region splits, tikv-ctl region lists both halves' '
	key=$(sed -n 800p keys) &&
	before=$(cluster_nregions) &&
	ctl split-region "$key" >ctl-split.out &&
	cat ctl-split.out &&
	test_line_count = 2 ctl-split.out &&
	sed -n 2p ctl-split.out | cut -d" " -f2 >right.start &&
	echo "$key" >expect &&
	test_cmp expect right.start &&
	test_wait_until 30 "test \$(cluster_nregions) = $((before + 1))" &&
	ctl region >ctl-region.out &&
	test_line_count = $((before + 1)) ctl-region.out &&
	cut -d" " -f1-6 ctl-split.out >expect &&
	test_wait_until 30 "ctl region >ctl-region.out &&
		cut -d\" \" -f1-6 ctl-region.out >actual &&
		grep -F -x -f expect actual >both &&
		test_line_count = 2 both" &&
	ctl region --key "$key" >one &&
	test "$(cut -d" " -f2 one)" = "$key"
'

# The parent's leader campaigns at once for the new region, so that it
# need not wait an election timeout.  Followers have usually not applied
# the split yet when its vote requests arrive, and drop them; so it asks
# again a heartbeat later, and their new peers, new groups, vote at once.
# Without that another peer won an election timeout later
# (raft-election-timeout-ticks x raft-base-tick-interval: 10 to 20 s with
# the defaults).  Six splits, so that luck alone seldom passes this.
# Splits the region holding $1 at $1 through its leader; prints "key
# parent_leader new_leader new_term" once the new region has a leader.
split_and_lead () {
	local pid plead ok rid l
	pd "GET_REGION $1" >parent &&
	read -r ok pid l <parent &&
	test_wait_until 30 "cluster_lead_store $pid 1 2 3 >lead.p" &&
	plead=$(cut -d" " -f1 lead.p) &&
	store "$plead" "SPLIT_REGION - $1" >split.out &&
	read -r ok l l l l l l rid l <split.out &&
	test "$ok" = OK &&
	test_wait_until 30 "cluster_lead_store $rid 1 2 3 >lead.r" &&
	echo "$1 $plead $(cat lead.r)"
}

test_expect_success 'after a split, the parent leader leads the new region at its first term' '
	for k in big00x big01x big02x big03x big04x big05x
	do
		split_and_lead $k >>leads || return 1
	done &&
	cat leads &&
	awk "{ print \$1, \$2, 6 }" leads >expect &&
	awk "{ print \$1, \$3, \$4 }" leads >actual &&
	test_cmp expect actual
'

test_expect_success 'after all the splits every key still reads back' '
	raw_load -p "$pd_addr" -V ack >verify.out &&
	echo "$NKEYS keys verified" >expect &&
	test_cmp expect verify.out &&
	ctl raw checksum key kez >sum &&
	test "$(cut -d" " -f1 sum)" = $NKEYS
'

# Store $2 leads region $1; if not, ask the leader to hand it over and
# fail, for test_wait_until to ask again.
leader_is () {
	local cur
	cur=$(cluster_lead_store "$1" 1 2 3) || return 1
	test "${cur%% *}" = "$2" && return 0
	cluster_move_leader "$1" "${cur%% *}" "$2" >/dev/null
	return 1
}

test_expect_success 'a follower that was down during a split catches up' '
	pd "GET_REGION key0000000300" >old &&
	read -r ok rid rstart rend rcv rver rpeers rleader <old &&
	test_wait_until 30 "cluster_lead_store $rid 1 2 3 >lead.out" &&
	lead=$(cut -d" " -f1 lead.out) &&
	down=$(cluster_next_store $lead 1 2 3) &&
	echo "region $rid [$rstart, $rend) led by s$lead; s$down down" &&
	test_daemon_kill s$down &&
	awk -v a="$rstart" -v b="$rend" "\$0 > a && \$0 < b" keys >inside &&
	splitkey=$(sed -n "$(($(wc -l <inside) / 2))p" inside) &&
	store $lead "SPLIT_REGION - $splitkey" >split.out &&
	cat split.out &&
	read -r ok lid lstart lend lcv lver lpeers \
		nid nstart nend ncv nver npeers <split.out &&
	test "$ok" = OK &&
	ctl raw put "${rstart}x" left &&
	ctl raw put "${splitkey}x" right &&
	test_daemon_restart s$down &&
	test_wait_until 30 "store_has_region $down $lid $lver &&
		store_has_region $down $nid $nver" &&
	test_wait_until 30 "leader_is $lid $down" &&
	test_wait_until 30 "leader_is $nid $down"
'

test_expect_success 'and serves both halves as their leader' '
	{ awk -v a="$rstart" -v b="$rend" "\$0 >= a && \$0 < b" keys &&
	  echo "${rstart}x" && echo "${splitkey}x"; } | sort >expect &&
	scan_keys -l 0 "$rstart" "$rend" >actual &&
	test_cmp expect actual &&
	echo "${splitkey}x right" >expect &&
	ctl raw get "${splitkey}x" >actual &&
	test_cmp expect actual &&
	echo "${rstart}x left" >expect &&
	ctl raw get "${rstart}x" >actual &&
	test_cmp expect actual &&
	ctl raw delete "${splitkey}x" &&
	ctl raw delete "${rstart}x" &&
	leader_is $lid $down &&
	leader_is $nid $down
'

test_expect_success 'after kill -9 of every store the regions and keys are all back' '
	regions >before &&
	test_daemon_kill s1 &&
	test_daemon_kill s2 &&
	test_daemon_kill s3 &&
	test_daemon_restart s1 &&
	test_daemon_restart s2 &&
	test_daemon_restart s3 &&
	while read -r id start end cv ver peers leader
	do
		for i in 1 2 3
		do
			test_wait_until 30 "store_has_region $i $id $ver" ||
				return 1
		done
	done <before &&
	raw_load -p "$pd_addr" -V ack >verify.out &&
	echo "$NKEYS keys verified" >expect &&
	test_cmp expect verify.out &&
	scan_keys -l 0 key kez >actual &&
	test_cmp keys actual &&
	regions >after &&
	cut -d" " -f1-6 before >expect &&
	cut -d" " -f1-6 after >actual &&
	test_cmp expect actual
'

# tkrzw 1.0.25's TreeDBM, reopened, puts its iterator's Last() and a
# JumpLower() past its greatest key at the end of the first leaf, not of
# the last one; kv.c keeps a record above every family so that never
# happens to the raw family, the last one.
test_expect_success 'after the restart a reverse scan still reaches the last region' '
	sort -r keys >expect &&
	scan_keys -r -l 0 key kez >actual &&
	test_cmp expect actual
'

test_done
