/* spool.c - bounded batch spool with SHA-256 on arrival; see spool.h. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "spool.h"

struct spool_ent {
	uint64_t off, len;
	int in_file;
	int done;
	char sha[65];
};

struct spool {
	struct spool_ent *e;
	size_t n;
	char *mem;
	size_t mem_used, mem_max;
	int fd;            /* -1 until a body spills */
	uint64_t file_len;
	struct spool_ent *cur;
	EVP_MD_CTX *md;
	int hash_now;      /* hash bodies as they arrive */
	size_t cap;        /* entries allocated in e[] */
};

static void to_hex(const unsigned char *md, char out[65])
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = 0;
}

struct spool *spool_new(size_t n, size_t mem_max)
{
	struct spool *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->e = calloc(n + 1, sizeof(*sp->e));
	sp->n = n;
	sp->cap = n + 1;
	sp->mem_max = mem_max ? mem_max : 8u << 20;
	sp->fd = -1;
	sp->hash_now = 1;
	sp->md = EVP_MD_CTX_new();
	if (!sp->e || !sp->md) {
		spool_free(sp);
		return NULL;
	}
	return sp;
}

enum ms_status spool_reuse(struct spool *sp, size_t n)
{
	if (n + 1 > sp->cap) {
		struct spool_ent *e = realloc(sp->e, (n + 1) * sizeof(*e));
		if (!e)
			return MS_ERR_NOMEM;
		sp->e = e;
		sp->cap = n + 1;
	}
	memset(sp->e, 0, (n + 1) * sizeof(*sp->e));
	sp->n = n;
	sp->mem_used = 0;
	sp->cur = NULL;
	if (sp->fd >= 0 && sp->file_len && ftruncate(sp->fd, 0)) {
		close(sp->fd); /* a new file when one is needed */
		sp->fd = -1;
	}
	sp->file_len = 0;
	return MS_OK;
}

void spool_hash_on_arrival(struct spool *sp, int on)
{
	sp->hash_now = on;
}

void spool_free(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	EVP_MD_CTX_free(sp->md);
	free(sp->mem);
	free(sp->e);
	free(sp);
}

static int spill_file(struct spool *sp)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	if (sp->fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/mailstage-spool.XXXXXX", dir && *dir ? dir : "/tmp");
	sp->fd = mkstemp(path);
	if (sp->fd < 0)
		return -1;
	unlink(path);
	return 0;
}

static enum ms_status sp_begin(void *ctx, size_t index, uint64_t size)
{
	struct spool *sp = ctx;
	struct spool_ent *e;

	if (index >= sp->n)
		return MS_ERR_PROTO;
	e = &sp->e[index];
	memset(e, 0, sizeof(*e));
	e->in_file = sp->mem_used + size > sp->mem_max;
	if (e->in_file && spill_file(sp))
		return MS_ERR_IO;
	if (!e->in_file && !sp->mem && !(sp->mem = malloc(sp->mem_max)))
		return MS_ERR_NOMEM;
	e->off = e->in_file ? sp->file_len : sp->mem_used;
	sp->cur = e;
	if (sp->hash_now)
		EVP_DigestInit_ex(sp->md, EVP_sha256(), NULL);
	return MS_OK;
}

static enum ms_status put_file(struct spool *sp, const char *p, size_t n)
{
	while (n) {
		ssize_t w = pwrite(sp->fd, p, n, (off_t)sp->file_len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return MS_ERR_IO;
		p += w;
		n -= (size_t)w;
		sp->file_len += (uint64_t)w;
	}
	return MS_OK;
}

static enum ms_status sp_data(void *ctx, const char *p, size_t n)
{
	struct spool *sp = ctx;
	struct spool_ent *e = sp->cur;
	enum ms_status st = MS_OK;

	if (!e)
		return MS_ERR_PROTO;
	if (!e->in_file && sp->mem_used + n > sp->mem_max) {
		/* the server sent more than it announced: move what we have to the file */
		if (spill_file(sp) || put_file(sp, sp->mem + e->off, e->len))
			return MS_ERR_IO;
		sp->mem_used = e->off;
		e->off = sp->file_len - e->len;
		e->in_file = 1;
	}
	if (e->in_file)
		st = put_file(sp, p, n);
	else {
		memcpy(sp->mem + sp->mem_used, p, n);
		sp->mem_used += n;
	}
	e->len += n;
	if (sp->hash_now)
		EVP_DigestUpdate(sp->md, p, n);
	return st;
}

static enum ms_status sp_end(void *ctx)
{
	struct spool *sp = ctx;
	unsigned char md[32];
	unsigned int len;

	if (!sp->cur)
		return MS_ERR_PROTO;
	if (sp->hash_now) {
		EVP_DigestFinal_ex(sp->md, md, &len);
		to_hex(md, sp->cur->sha);
	}
	sp->cur->done = 1;
	sp->cur = NULL;
	return MS_OK;
}

struct msg_sink spool_sink(struct spool *sp)
{
	return (struct msg_sink){ sp_begin, sp_data, sp_end, sp };
}

int spool_have(const struct spool *sp, size_t index)
{
	return index < sp->n && sp->e[index].done;
}

uint64_t spool_size(const struct spool *sp, size_t index)
{
	return sp->e[index].len;
}

/* The hash of a body not hashed on arrival, from where it lies. */
static void hash_later(struct spool *sp, struct spool_ent *e)
{
	char buf[64 * 1024];
	unsigned char md[32];
	unsigned int len;
	uint64_t pos = 0;
	ssize_t r;

	EVP_DigestInit_ex(sp->md, EVP_sha256(), NULL);
	if (!e->in_file)
		EVP_DigestUpdate(sp->md, sp->mem + e->off, e->len);
	while (e->in_file && pos < e->len) {
		size_t want = e->len - pos < sizeof(buf) ? (size_t)(e->len - pos) : sizeof(buf);
		r = pread(sp->fd, buf, want, (off_t)(e->off + pos));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return; /* sha stays "" */
		EVP_DigestUpdate(sp->md, buf, (size_t)r);
		pos += (uint64_t)r;
	}
	EVP_DigestFinal_ex(sp->md, md, &len);
	to_hex(md, e->sha);
}

const char *spool_sha256(struct spool *sp, size_t index)
{
	struct spool_ent *e = &sp->e[index];

	if (!e->sha[0] && e->done)
		hash_later(sp, e);
	return e->sha;
}

uint64_t spool_total(const struct spool *sp)
{
	uint64_t t = 0;

	for (size_t i = 0; i < sp->n; i++)
		if (sp->e[i].done)
			t += sp->e[i].len;
	return t;
}

void spool_cursor(struct spool *sp, size_t index, struct spool_cursor *c)
{
	c->sp = sp;
	c->index = index;
	c->pos = 0;
}

enum ms_status spool_read(void *ctx, char *p, size_t n, size_t *got)
{
	struct spool_cursor *c = ctx;
	struct spool_ent *e = &c->sp->e[c->index];
	uint64_t left = e->len - c->pos;
	ssize_t r;

	*got = 0;
	if (n > left)
		n = (size_t)left;
	if (!n)
		return MS_OK;
	if (!e->in_file) {
		memcpy(p, c->sp->mem + e->off + c->pos, n);
		*got = n;
	} else {
		do
			r = pread(c->sp->fd, p, n, (off_t)(e->off + c->pos));
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return MS_ERR_IO;
		*got = (size_t)r;
	}
	c->pos += *got;
	return MS_OK;
}

enum ms_status spool_peek(void *ctx, const char **p, size_t max, size_t *n)
{
	struct spool_cursor *c = ctx;
	struct spool_ent *e = &c->sp->e[c->index];

	*p = NULL;
	*n = 0;
	if (e->in_file || c->pos >= e->len)
		return MS_OK;
	*p = c->sp->mem + e->off + c->pos;
	*n = e->len - c->pos < max ? (size_t)(e->len - c->pos) : max;
	c->pos += *n;
	return MS_OK;
}

enum ms_status spool_rewind(void *ctx)
{
	struct spool_cursor *c = ctx;

	c->pos = 0;
	return MS_OK;
}

/* ---- hashing only ---- */

static enum ms_status hs_begin(void *ctx, size_t index, uint64_t size)
{
	struct hash_sink *h = ctx;

	if (index >= h->n)
		return MS_ERR_PROTO;
	h->cur = index;
	EVP_DigestInit_ex(h->md, EVP_sha256(), NULL);
	return MS_OK;
}

static enum ms_status hs_data(void *ctx, const char *p, size_t n)
{
	struct hash_sink *h = ctx;

	h->bytes += n;
	EVP_DigestUpdate(h->md, p, n);
	return MS_OK;
}

static enum ms_status hs_end(void *ctx)
{
	struct hash_sink *h = ctx;
	unsigned char md[32];
	unsigned int len;

	EVP_DigestFinal_ex(h->md, md, &len);
	to_hex(md, h->hex[h->cur]);
	return MS_OK;
}

enum ms_status hash_sink_init(struct hash_sink *h, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->hex = calloc(n + 1, sizeof(*h->hex));
	h->md = EVP_MD_CTX_new();
	h->n = n;
	if (!h->hex || !h->md) {
		hash_sink_fini(h);
		return MS_ERR_NOMEM;
	}
	return MS_OK;
}

void hash_sink_fini(struct hash_sink *h)
{
	free(h->hex);
	EVP_MD_CTX_free(h->md);
	h->hex = NULL;
	h->md = NULL;
}

struct msg_sink hash_sink_sink(struct hash_sink *h)
{
	return (struct msg_sink){ hs_begin, hs_data, hs_end, h };
}
