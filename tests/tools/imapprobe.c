/*
 * imapprobe.c - a test driver that exercises the engine's IMAP layer
 * directly, so the integration tests can compare what OUR client reads and
 * writes with what an independent client (tests/lib/imaptool.py) sees.
 *
 *   imapprobe [--tls M] [--ca-file F] URL PASSFILE dump FOLDER
 *       one line per message: uid, flags (sorted), epoch, size, sha256 (batched FETCH)
 *   imapprobe ... dumpeach FOLDER        same, one FETCH per message
 *   imapprobe ... ranges FOLDER UID CHUNK   sha256 of a message read by partial fetches
 *   imapprobe ... copy FOLDER DSTURL DSTPASSFILE DSTFOLDER pipeline|multi|single
 *       copy every message (bytes, flags, INTERNALDATE) and print "uid -> dstuid"
 *   imapprobe ... append FOLDER FILE FLAGS DATE   one APPEND from a file
 *   imapprobe ... list                   folders: raw, name, special use, status
 *   imapprobe ... meta FOLDER            metadata only: prints the message count
 *   imapprobe ... idle SECONDS           log in, then NOOP after SECONDS (for timeout tests)
 *
 * Not installed; not a product command.
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "imap.h"
#include "imapdate.h"

struct body {
	struct buf data;
	uint32_t uid;
	int done;
};

struct bodies {
	struct body *b;
	size_t n, cap;
	struct body *cur;
};

static void die(const char *what, struct imap *im)
{
	fprintf(stderr, "imapprobe: %s: %s\n", what, im ? imap_errmsg(im) : "");
	exit(1);
}

static struct imap *open_session(const char *url, const char *passfile, const char *tls,
				 const char *ca)
{
	struct ms_server srv;
	struct imap *im;
	char err[640];

	server_init(&srv);
	if (server_parse_url(url, &srv, err, sizeof(err)) ||
	    server_load_password(&srv, passfile, NULL, err, sizeof(err)) ||
	    (tls && server_parse_tls(tls, &srv.tls)))
		goto bad;
	if (ca)
		srv.ca_file = strdup(ca);
	if (getenv("PROBE_TIMEOUT_MS"))
		srv.cmd_timeout_ms = atoi(getenv("PROBE_TIMEOUT_MS"));
	if (imap_connect(&srv, &im, err, sizeof(err)))
		goto bad;
	server_free(&srv);
	return im;
bad:
	fprintf(stderr, "imapprobe: %s\n", err);
	exit(3);
}

static enum ms_status b_begin(void *ctx, uint32_t seq, uint32_t uid, const char *sec, uint64_t sz)
{
	struct bodies *bs = ctx;

	if (bs->n == bs->cap) {
		bs->cap = bs->cap ? bs->cap * 2 : 64;
		bs->b = realloc(bs->b, bs->cap * sizeof(*bs->b));
	}
	bs->cur = &bs->b[bs->n++];
	memset(bs->cur, 0, sizeof(*bs->cur));
	buf_init(&bs->cur->data, (size_t)1 << 31);
	bs->cur->uid = uid;
	return MS_OK;
}

static enum ms_status b_data(void *ctx, const char *p, size_t n)
{
	struct bodies *bs = ctx;

	return buf_add(&bs->cur->data, p, n);
}

static enum ms_status b_end(void *ctx)
{
	struct bodies *bs = ctx;

	bs->cur->done = 1;
	return MS_OK;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

struct meta {
	struct imap_msg *m;
	size_t n, cap;
};

static enum ms_status keep_meta(void *ctx, const struct imap_msg *m)
{
	struct meta *mt = ctx;

	if (mt->n == mt->cap) {
		mt->cap = mt->cap ? mt->cap * 2 : 64;
		mt->m = realloc(mt->m, mt->cap * sizeof(*mt->m));
	}
	mt->m[mt->n] = *m;
	mt->m[mt->n].flags = strdup(m->flags);
	mt->m[mt->n].message_id = m->message_id ? strdup(m->message_id) : NULL;
	mt->n++;
	return MS_OK;
}

static void meta_free(struct meta *mt)
{
	for (size_t i = 0; i < mt->n; i++) {
		free(mt->m[i].flags);
		free(mt->m[i].message_id);
	}
	free(mt->m);
}

static void bodies_free(struct bodies *bs)
{
	for (size_t i = 0; i < bs->n; i++)
		buf_free(&bs->b[i].data);
	free(bs->b);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Flags sorted, so both clients print the same text. */
static void print_sorted_flags(const char *flags)
{
	char *copy = strdup(flags), *words[64], *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(copy, " ", &save); w && n < 64; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	qsort(words, (size_t)n, sizeof(words[0]), cmpstr);
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? " " : "", words[i]);
	free(copy);
}

static struct body *find_body(struct bodies *bs, uint32_t uid)
{
	for (size_t i = 0; i < bs->n; i++)
		if (bs->b[i].uid == uid)
			return &bs->b[i];
	return NULL;
}

static void load_folder(struct imap *im, const char *folder, struct meta *mt, struct bodies *bs,
			int each)
{
	struct body_sink sink = { b_begin, b_data, b_end, bs };

	if (imap_examine(im, folder, NULL))
		die("EXAMINE", im);
	if (imap_fetch_meta(im, "1:*", 1, keep_meta, mt))
		die("FETCH metadata", im);
	if (!each && mt->n && imap_fetch_bodies(im, "1:*", &sink))
		die("FETCH bodies", im);
	for (size_t i = 0; each && i < mt->n; i++)
		if (imap_fetch_body(im, mt->m[i].uid, 0, 0, &sink))
			die("FETCH body", im);
}

static int cmd_dump(struct imap *im, const char *folder, int each)
{
	struct meta mt = { 0 };
	struct bodies bs = { 0 };
	char hex[65];

	load_folder(im, folder, &mt, &bs, each);
	for (size_t i = 0; i < mt.n; i++) {
		struct body *b = find_body(&bs, mt.m[i].uid);
		if (!b || !b->done)
			die("a body is missing", im);
		sha256_hex(b->data.data ? b->data.data : "", b->data.len, hex);
		printf("%u\t", mt.m[i].uid);
		print_sorted_flags(mt.m[i].flags);
		printf("\t%lld\t%llu\t%s\n", mt.m[i].internaldate, (unsigned long long)b->data.len,
		       hex);
		if (b->data.len != mt.m[i].size)
			fprintf(stderr, "imapprobe: uid %u: RFC822.SIZE %llu but %zu bytes\n",
				mt.m[i].uid, (unsigned long long)mt.m[i].size, b->data.len);
	}
	meta_free(&mt);
	bodies_free(&bs);
	return 0;
}

static int cmd_ranges(struct imap *im, const char *folder, uint32_t uid, uint64_t chunk)
{
	struct bodies bs = { 0 };
	struct body_sink sink = { b_begin, b_data, b_end, &bs };
	struct buf all = BUF_INIT((size_t)1 << 31);
	char hex[65];
	uint64_t off = 0;

	if (imap_examine(im, folder, NULL))
		die("EXAMINE", im);
	for (;;) {
		bs.n = 0;
		if (imap_fetch_body(im, uid, off, chunk, &sink))
			die("partial FETCH", im);
		if (!bs.b[0].data.len)
			break;
		buf_add(&all, bs.b[0].data.data, bs.b[0].data.len);
		off += bs.b[0].data.len;
		buf_free(&bs.b[0].data);
	}
	sha256_hex(all.data ? all.data : "", all.len, hex);
	printf("%zu\t%s\n", all.len, hex);
	bodies_free(&bs);
	buf_free(&all);
	return 0;
}

struct mem_reader {
	const char *p;
	size_t left;
};

static enum ms_status mem_read(void *ctx, char *p, size_t n, size_t *got)
{
	struct mem_reader *mr = ctx;

	*got = n < mr->left ? n : mr->left;
	memcpy(p, mr->p, *got);
	mr->p += *got;
	mr->left -= *got;
	return MS_OK;
}

static int cmd_copy(struct imap *src, char **argv)
{
	struct imap *dst = open_session(argv[1], argv[2], getenv("PROBE_DST_TLS"), getenv("PROBE_DST_CA"));
	const char *dfolder = argv[3], *mode = argv[4];
	struct meta mt = { 0 };
	struct bodies bs = { 0 };
	struct imap_upload *up;
	struct mem_reader *mr;
	struct imap_appended *res;
	unsigned *tags;
	size_t n;

	load_folder(src, argv[0], &mt, &bs, 0);
	n = mt.n;
	up = calloc(n + 1, sizeof(*up));
	mr = calloc(n + 1, sizeof(*mr));
	res = calloc(n + 1, sizeof(*res));
	tags = calloc(n + 1, sizeof(*tags));
	if (imap_create(dst, dfolder))
		die("CREATE", dst);
	for (size_t i = 0; i < n; i++) {
		struct body *b = find_body(&bs, mt.m[i].uid);
		mr[i].p = b->data.data ? b->data.data : "";
		mr[i].left = b->data.len;
		up[i] = (struct imap_upload){ mt.m[i].flags, mt.m[i].internaldate, mt.m[i].tzoff,
					      b->data.len, mem_read, &mr[i], NULL };
	}
	if (!strcmp(mode, "multi")) {
		if (n && imap_multiappend(dst, dfolder, up, n, res))
			die("MULTIAPPEND", dst);
	} else if (!strcmp(mode, "pipeline")) {
		for (size_t i = 0; i < n; i++)
			if (imap_append_send(dst, dfolder, &up[i], &tags[i]))
				die("APPEND send", dst);
		for (size_t i = 0; i < n; i++)
			if (imap_append_wait(dst, tags[i], &res[i]))
				die("APPEND", dst);
	} else {
		for (size_t i = 0; i < n; i++)
			if (imap_append(dst, dfolder, &up[i], &res[i]))
				die("APPEND", dst);
	}
	for (size_t i = 0; i < n; i++)
		printf("%u -> %u\n", mt.m[i].uid, res[i].uid);
	imap_close(dst);
	free(up);
	free(mr);
	free(res);
	free(tags);
	meta_free(&mt);
	bodies_free(&bs);
	return 0;
}

static int cmd_append(struct imap *im, char **argv)
{
	FILE *f = fopen(argv[1], "rb");
	struct buf b = BUF_INIT((size_t)1 << 31);
	struct imap_upload up = { argv[2], 0, 0, 0, mem_read, NULL, NULL };
	struct imap_appended res;
	struct mem_reader mr;
	char chunk[65536];
	size_t n;
	int rc;

	if (!f)
		die("cannot open the message file", NULL);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (argv[3][0] && imapdate_parse(argv[3], &up.internaldate, &up.tzoff))
		die("bad date", NULL);
	mr.p = b.data ? b.data : "";
	mr.left = b.len;
	up.size = b.len;
	up.ctx = &mr;
	rc = imap_append(im, argv[0], &up, &res) ? 1 : 0;
	if (rc)
		printf("refused\t%s\t%s\n", res.code, res.text);
	else
		printf("%u\t%u\n", res.uidvalidity, res.uid);
	buf_free(&b);
	return rc;
}

static int cmd_list(struct imap *im)
{
	struct imap_namespaces ns;
	struct imap_folder *f = NULL;
	size_t n = 0;

	if (imap_namespace(im, &ns) || imap_list(im, &ns, 1, &f, &n))
		die("LIST", im);
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\t%c\t%u\t%d\t%u\t%u\t%u\n", f[i].raw, f[i].name, f[i].sep ? f[i].sep : '-',
		       f[i].special_use, (int)f[i].ns, f[i].messages, f[i].uidnext,
		       f[i].uidvalidity);
	imap_folders_free(f, n);
	imap_namespaces_free(&ns);
	return 0;
}

int main(int argc, char **argv)
{
	const char *tls = NULL, *ca = NULL;
	struct imap *im;
	int rc = 2;

	while (argc > 2 && !strncmp(argv[1], "--", 2)) {
		if (!strcmp(argv[1], "--tls"))
			tls = argv[2];
		else if (!strcmp(argv[1], "--ca-file"))
			ca = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: see the comment at the top of imapprobe.c\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	im = open_session(argv[1], argv[2], tls, ca);
	if (!strcmp(argv[3], "dump") && argc == 5)
		rc = cmd_dump(im, argv[4], 0);
	else if (!strcmp(argv[3], "dumpeach") && argc == 5)
		rc = cmd_dump(im, argv[4], 1);
	else if (!strcmp(argv[3], "ranges") && argc == 7)
		rc = cmd_ranges(im, argv[4], (uint32_t)atol(argv[5]), (uint64_t)atoll(argv[6]));
	else if (!strcmp(argv[3], "copy") && argc == 9)
		rc = cmd_copy(im, argv + 4);
	else if (!strcmp(argv[3], "append") && argc == 8)
		rc = cmd_append(im, argv + 4);
	else if (!strcmp(argv[3], "meta") && argc == 5) {
		struct meta mt = { 0 };
		if (imap_examine(im, argv[4], NULL) || imap_fetch_meta(im, "1:*", 1, keep_meta, &mt))
			die("metadata", im);
		printf("%zu\n", mt.n);
		meta_free(&mt);
		rc = 0;
	} else if (!strcmp(argv[3], "list"))
		rc = cmd_list(im);
	else if (!strcmp(argv[3], "idle") && argc == 5) {
		sleep((unsigned)atoi(argv[4]));
		rc = imap_noop(im) ? 1 : 0;
		if (rc)
			fprintf(stderr, "imapprobe: NOOP: %s\n", imap_errmsg(im));
	}
	imap_close(im);
	return rc;
}
