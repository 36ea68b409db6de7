/*
 * test_batch.c - the pure parts of `mailstage batch` (tools/batch_fix.c):
 * suggested fixes per error, shard parsing and the stable split, --every.
 */
#include <stdio.h>
#include <string.h>
#include "batch.h"
#include "unit.h"

static void test_fixes(void)
{
	CHECK(strstr(batch_fix_status(MS_ERR_AUTH, BSIDE_SOURCE), "check UserName and Password in the CSV"));
	CHECK(strstr(batch_fix_status(MS_ERR_AUTH, BSIDE_SOURCE), "admin login"));
	CHECK(strstr(batch_fix_status(MS_ERR_AUTH, BSIDE_DEST), "DestPassword"));
	CHECK(strstr(batch_fix_status(MS_ERR_CONNECT, BSIDE_SOURCE), "port and the firewall"));
	CHECK(strstr(batch_fix_status(MS_ERR_TLS, BSIDE_DEST), "--ca-file"));
	CHECK(strstr(batch_fix_status(MS_ERR_TIMEOUT, BSIDE_DEST), "resume"));
	CHECK(strstr(batch_fix_reason("over-size-limit"), "--max-size"));
	CHECK(strstr(batch_fix_reason("refused"), "APPENDLIMIT"));
	CHECK(strstr(batch_fix_reason("row-refused"), "validation.csv"));
	CHECK(strstr(batch_fix_reason("no-such-reason"), "run the batch again"));
	CHECK(batch_reason_is_listed("refused", 1));
	CHECK(batch_reason_is_listed("over-size-limit", 0));
	CHECK(!batch_reason_is_listed("excluded-folder", 0));
}

static void test_shards(void)
{
	int k = 0, n = 0, seen[4] = { 0 };
	char addr[64];

	CHECK(!batch_shard_parse("2/3", &k, &n) && k == 2 && n == 3);
	CHECK(batch_shard_parse("4/3", &k, &n) < 0);
	CHECK(batch_shard_parse("0/3", &k, &n) < 0);
	CHECK(batch_shard_parse("1/", &k, &n) < 0);
	CHECK(batch_shard_parse("1/3x", &k, &n) < 0);
	CHECK(batch_shard_parse("-1/3", &k, &n) < 0);
	CHECK(batch_shard_of("Alice@Example.org", 3) == batch_shard_of("alice@example.org", 3));
	for (int i = 0; i < 3000; i++) {
		snprintf(addr, sizeof(addr), "user%d@example.org", i);
		k = batch_shard_of(addr, 3);
		if (k >= 1 && k <= 3)
			seen[k]++;
		else
			seen[0]++;
	}
	CHECK(seen[0] == 0);
	CHECK(seen[1] > 800 && seen[2] > 800 && seen[3] > 800);
	CHECK(batch_shard_of("x@example.org", 1) == 1);
}

static void test_interval(void)
{
	CHECK(batch_parse_interval("24h") == 86400);
	CHECK(batch_parse_interval("30m") == 1800);
	CHECK(batch_parse_interval("2d") == 172800);
	CHECK(batch_parse_interval("90") == 90);
	CHECK(batch_parse_interval("90s") == 90);
	CHECK(batch_parse_interval("h") < 0);
	CHECK(batch_parse_interval("0h") < 0);
	CHECK(batch_parse_interval("5w") < 0);
}

int main(void)
{
	test_fixes();
	test_shards();
	test_interval();
	return unit_done();
}
