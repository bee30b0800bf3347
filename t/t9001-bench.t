#!/bin/sh
test_description='tikv-bench: load writes recordcount records, a read-only run finds them all, summaries add up, in raw and txn mode; bad options and properties exit 2'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

# json_check FILE EXPR: the Perl expression EXPR holds over the summary in
# FILE, decoded into $j, with %op mapping operation names to their rows.
json_check () {
	perl -MJSON::PP -e '
		my ($file, $expr) = @ARGV;
		open(my $f, "<", $file) or die "$file: $!\n";
		local $/;
		my $j = decode_json(<$f>);
		my %op = map { $_->{op} => $_ } @{$j->{ops}};
		my $ok = eval $expr;
		die "bad expression: $@" if $@;
		exit 0 if $ok;
		print STDERR "json_check: false: $expr\n", `cat $file`;
		exit 1' "$1" "$2"
}

# The summary adds up: counts and errors of the rows make the total, and
# the error kinds make the errors.
sums='
	my ($c, $e, $k) = (0, 0, 0);
	$c += $_->{count}, $e += $_->{errors} for @{$j->{ops}};
	$k += $_->{count} for @{$j->{errors}};
	$c == $j->{total}{count} && $e == $j->{total}{errors} &&
	    $k == $e
'

if tikv-ctl -h 2>&1 | grep -q "raw scan"
then
	test_set_prereq RAWSCAN
fi
if command -v script >/dev/null
then
	test_set_prereq SCRIPT
fi

test_expect_success 'usage errors exit 2 with the usage' '
	test_expect_code 2 tikv-bench 2>err &&
	grep "^usage: tikv-bench" err &&
	test_expect_code 2 tikv-bench -h 2>err &&
	grep "^usage: tikv-bench" err &&
	test_expect_code 2 tikv-bench frobnicate 2>err &&
	grep "^usage: tikv-bench" err &&
	test_expect_code 2 tikv-bench load run 2>err &&
	grep "^usage: tikv-bench" err &&
	test_expect_code 2 tikv-bench -x run 2>err &&
	grep "^usage: tikv-bench" err
'

test_expect_success 'bad option values exit 2 naming the value' '
	test_expect_code 2 tikv-bench -c 0 run 2>err &&
	grep "threads .0. is too small" err &&
	test_expect_code 2 tikv-bench -P many run 2>err &&
	grep "depth .many. is invalid" err &&
	test_expect_code 2 tikv-bench -o xml run 2>err &&
	grep "unknown output format .xml." err &&
	test_expect_code 2 tikv-bench -m kv run 2>err &&
	grep "unknown mode .kv." err &&
	test_expect_code 2 tikv-bench -w G run 2>err &&
	grep "unknown workload .G." err
'

test_expect_success 'unknown and malformed workload properties exit 2' '
	test_expect_code 2 tikv-bench -p readprop=1 run 2>err &&
	grep "unknown workload property .readprop." err &&
	test_expect_code 2 tikv-bench -p recordcount run 2>err &&
	grep "property .recordcount. is not name=value" err &&
	test_expect_code 2 tikv-bench -p recordcount=-5 run 2>err &&
	grep "recordcount.: .-5. is too small" err &&
	test_expect_code 2 tikv-bench -p readproportion=1.5 run 2>err &&
	grep "readproportion.: .1.5. is not a proportion" err &&
	test_expect_code 2 tikv-bench -p requestdistribution=normal run \
		2>err &&
	grep "requestdistribution.: .normal. is not uniform, zipfian or latest" err &&
	test_expect_code 2 tikv-bench -w C -p readproportion=0 run 2>err &&
	grep "every operation proportion is 0" err &&
	test_expect_code 2 tikv-bench -p operationcount=0 run 2>err &&
	grep "operationcount=0 runs forever" err
'

test_expect_success 'no cluster: status 1 and the reason' '
	port=$(test_free_port) &&
	test_expect_code 1 tikv-bench --pd "127.0.0.1:$port" -w C run \
		>out 2>err &&
	grep "cannot reach the cluster through .127.0.0.1:$port." err &&
	test_expect_code 1 tikv-bench -m txn --pd "127.0.0.1:$port" -w C \
		run >out 2>err &&
	grep "cannot reach the cluster through .127.0.0.1:$port." err
'

test_expect_success 'a cluster of three stores' '
	cluster_start 3 &&
	cluster_wait_voters 3 &&
	TIKV_PD=$pd_addr &&
	export TIKV_PD
'

test_expect_success 'load writes recordcount records' '
	tikv-bench -c 4 -P 4 -p recordcount=500 -o json load >load.json &&
	json_check load.json "\$j->{phase} eq \"load\" &&
		\$op{INSERT}{count} == 500 && \$j->{total}{errors} == 0 &&
		\$j->{properties}{recordcount} == 500" &&
	json_check load.json "$sums"
'

test_expect_success RAWSCAN 'a full scan finds exactly recordcount records' '
	ctl raw scan -k -l 0 user usf >keys &&
	test_line_count = 500 keys &&
	sort -u keys >uniq &&
	test_line_count = 500 uniq &&
	! grep -v "^user[0-9][0-9]*\$" keys &&
	cp keys load-keys
'

test_expect_success RAWSCAN 'ordered inserts make YCSB keys: prefix and zero-padded number' '
	tikv-bench -c 2 -p recordcount=50 -p keyprefix=ord \
		-p insertorder=ordered -p zeropadding=4 -o csv load >load.csv &&
	grep "^load,A,raw,2,1,INSERT,50," load.csv &&
	ctl raw scan -k -l 0 ord ore >keys &&
	seq -f "ord%04g" 0 49 >expect &&
	test_cmp expect keys
'

test_expect_success 'a read-only run finds every key it asks for' '
	tikv-bench -c 4 -w C -p recordcount=500 -p operationcount=2000 \
		-o json run >c.json &&
	json_check c.json "\$op{READ}{count} == 2000 &&
		\$op{READ}{errors} == 0 && \$j->{total}{count} == 2000 &&
		@{\$j->{errors}} == 0 && keys(%op) == 1" &&
	json_check c.json "$sums"
'

test_expect_success 'so does one with 8 reads per message, uniform over the keys' '
	tikv-bench -c 2 -P 8 -w C -p recordcount=500 -p operationcount=1000 \
		-p requestdistribution=uniform -o json run >c8.json &&
	json_check c8.json "\$op{READ}{count} == 1000 &&
		\$j->{total}{errors} == 0 && \$j->{depth} == 8"
'

test_expect_success 'a read of a record never loaded counts as not_found' '
	tikv-bench -c 2 -w C -p recordcount=600 -p operationcount=600 \
		-p requestdistribution=uniform -o json run >miss.json &&
	json_check miss.json "\$op{READ}{errors} > 0 &&
		\$j->{errors}[0]{kind} eq \"not_found\" &&
		\$op{READ}{count} + \$op{READ}{errors} == 600" &&
	json_check miss.json "$sums"
'

test_expect_success 'workload A: reads and updates add up to operationcount' '
	tikv-bench -c 4 -w A -p recordcount=500 -p operationcount=1000 \
		-o json run >a.json &&
	json_check a.json "\$op{READ}{count} > 0 && \$op{UPDATE}{count} > 0 &&
		\$j->{total}{count} + \$j->{total}{errors} == 1000 &&
		\$j->{total}{errors} == 0" &&
	json_check a.json "$sums"
'

test_expect_success 'workload F in CSV: the rows add up to the TOTAL row' '
	tikv-bench -c 2 -P 4 -w F -p recordcount=500 -p operationcount=400 \
		-o csv run >f.csv &&
	head -n 1 f.csv >header &&
	echo "phase,workload,mode,threads,depth,op,count,ops_per_s,p50_us,p95_us,p99_us,p999_us,max_us,errors" >expect &&
	test_cmp expect header &&
	grep "^run,F,raw,2,4,READ_MODIFY_WRITE," f.csv &&
	awk -F, "NR > 1 && \$6 != \"TOTAL\" && \$6 !~ /^error:/ {
			n += \$7 + \$14 }
		\$6 == \"TOTAL\" { t = \$7 + \$14 }
		END { exit !(n == 400 && t == 400) }" f.csv
'

test_expect_success RAWSCAN 'workload E: its inserts are new records the scan finds' '
	tikv-bench -c 2 -w E -p recordcount=500 -p operationcount=300 \
		-p maxscanlength=10 -o json run >e.json &&
	json_check e.json "\$op{SCAN}{count} > 0 && \$op{INSERT}{count} > 0 &&
		\$j->{total}{errors} == 0" &&
	json_check e.json "$sums" &&
	inserts=$(sed -n "s/.*{\"op\": \"INSERT\", \"count\": \([0-9]*\),.*/\1/p" \
		e.json) &&
	test "$inserts" -gt 0 &&
	ctl raw scan -k -l 0 user usf >keys &&
	test_line_count = $((500 + inserts)) keys
'

# Only write conflicts may fail a txn run (neither retried nor an error
# of the store); reads never fail.
txn_errors='
	!grep({ $_->{kind} ne "conflict" } @{$j->{errors}}) &&
	(!$op{READ} || $op{READ}{errors} == 0)
'

test_expect_success 'txn mode: load writes recordcount records in transactions' '
	tikv-bench -m txn -c 4 -P 4 -p recordcount=500 -o json load \
		>tload.json &&
	json_check tload.json "\$j->{phase} eq \"load\" &&
		\$j->{mode} eq \"txn\" && \$j->{depth} == 4 &&
		\$op{INSERT}{count} == 500 && \$j->{total}{errors} == 0" &&
	json_check tload.json "$sums"
'

test_expect_success 'txn mode: a full txn scan finds exactly the records loaded' '
	ctl txn scan -k -l 0 user usf >tkeys &&
	test_line_count = 500 tkeys &&
	test_cmp load-keys tkeys
'

test_expect_success 'txn mode: a read-only run finds every key it asks for' '
	tikv-bench -m txn -c 4 -w C -p recordcount=500 \
		-p operationcount=1000 -o json run >tc.json &&
	json_check tc.json "\$op{READ}{count} == 1000 &&
		\$op{READ}{errors} == 0 && \$j->{total}{count} == 1000 &&
		@{\$j->{errors}} == 0 && keys(%op) == 1 &&
		\$j->{mode} eq \"txn\"" &&
	json_check tc.json "$sums"
'

test_expect_success 'txn mode: so does one with 8 reads per transaction' '
	tikv-bench -m txn -c 2 -P 8 -w C -p recordcount=500 \
		-p operationcount=1000 -p requestdistribution=uniform \
		-o csv run >tc8.csv &&
	grep "^run,C,txn,2,8,READ,1000,.*,0\$" tc8.csv &&
	grep "^run,C,txn,2,8,TOTAL,1000,.*,0\$" tc8.csv &&
	! grep ",error:" tc8.csv
'

test_expect_success 'txn mode: a read of a record never loaded counts as not_found' '
	tikv-bench -m txn -c 2 -w C -p recordcount=600 -p operationcount=600 \
		-p requestdistribution=uniform -o json run >tmiss.json &&
	json_check tmiss.json "\$op{READ}{errors} > 0 &&
		\$j->{errors}[0]{kind} eq \"not_found\" &&
		\$op{READ}{count} + \$op{READ}{errors} == 600" &&
	json_check tmiss.json "$sums"
'

test_expect_success 'txn mode: workload A adds up; only conflicts fail' '
	tikv-bench -m txn -c 4 -w A -p recordcount=500 -p operationcount=600 \
		-o json run >ta.json &&
	json_check ta.json "\$op{READ}{count} > 0 && \$op{UPDATE}{count} > 0 &&
		\$j->{total}{count} + \$j->{total}{errors} == 600" &&
	json_check ta.json "$txn_errors" &&
	json_check ta.json "$sums"
'

test_expect_success 'txn mode: updates of one record from 8 clients conflict' '
	tikv-bench -m txn -c 8 -w A -p recordcount=1 -p readproportion=0 \
		-p updateproportion=1 -p operationcount=400 -o json run \
		>thot.json &&
	json_check thot.json "\$op{UPDATE}{errors} > 0 &&
		\$op{UPDATE}{count} > 0 &&
		\$op{UPDATE}{count} + \$op{UPDATE}{errors} == 400" &&
	json_check thot.json "$txn_errors" &&
	json_check thot.json "$sums"
'

test_expect_success 'txn mode: workload F, 4 operations per transaction, adds up' '
	tikv-bench -m txn -c 2 -P 4 -w F -p recordcount=500 \
		-p operationcount=400 -o json run >tf.json &&
	json_check tf.json "\$op{READ_MODIFY_WRITE}{count} > 0 &&
		\$j->{total}{count} + \$j->{total}{errors} == 400 &&
		!grep({ \$_->{kind} eq \"not_found\" } @{\$j->{errors}})" &&
	json_check tf.json "$txn_errors" &&
	json_check tf.json "$sums"
'

test_expect_success 'txn mode: workload E: its inserts are new records the txn scan finds' '
	tikv-bench -m txn -c 2 -w E -p recordcount=500 -p operationcount=300 \
		-p maxscanlength=10 -o json run >te.json &&
	json_check te.json "\$op{SCAN}{count} > 0 && \$op{INSERT}{count} > 0 &&
		\$j->{total}{errors} == 0" &&
	json_check te.json "$sums" &&
	inserts=$(sed -n "s/.*{\"op\": \"INSERT\", \"count\": \([0-9]*\),.*/\1/p" \
		te.json) &&
	test "$inserts" -gt 0 &&
	ctl txn scan -k -l 0 user usf >tkeys &&
	test_line_count = $((500 + inserts)) tkeys
'

test_expect_success 'piped, a timed run prints no progress lines' '
	tikv-bench -c 2 -w C -p recordcount=500 -d 3 run >out &&
	! grep "^run C: " out &&
	grep "^run: workload C, raw, 2 threads, depth 1" out &&
	grep "^READ " out &&
	grep "^errors: none" out
'

test_expect_success SCRIPT 'on a terminal it does, then the summary' '
	script -qec "tikv-bench -c 2 -w C -p recordcount=500 -d 3 run" \
		/dev/null >out &&
	grep "^run C: .* ops .* ops/s .* errors" out &&
	grep "^run: workload C" out
'

test_done
