/*
 * test_fs.c - unit tests of the mount's pure parts: the folder tree (paths,
 * escaping, namespaces, inode numbers) and the body cache (LRU bound in
 * bytes, references outliving eviction).  No FUSE, no server.
 */
#include <stdlib.h>
#include <string.h>
#include "bodycache.h"
#include "fs.h"
#include "tree.h"
#include "unit.h"

static struct dnode *walk(struct tree *t, const char *path)
{
	char *p = strdup(path), *save, *c;
	struct dnode *d = tree_dir(t, FUSE_ROOT_ID);

	for (c = strtok_r(p, "/", &save); d && c; c = strtok_r(NULL, "/", &save))
		d = tree_child(d, c);
	free(p);
	return d;
}

static void test_tree(void)
{
	struct imap_folder f[] = {
		{ .raw = (char *)"INBOX", .sep = '.' },
		{ .raw = (char *)"Lists", .sep = '.', .attrs = LIST_NOSELECT },
		{ .raw = (char *)"Lists.cur", .sep = '.' },
		{ .raw = (char *)"Lists.2024", .sep = '.', .special_use = SU_ARCHIVE },
		{ .raw = (char *)"a/b", .sep = '.' },
		{ .raw = (char *)"50%", .sep = '.' },
		{ .raw = (char *)"Entw&APw-rfe", .sep = '.' },
		{ .raw = (char *)"Public.News", .sep = '.', .ns = NS_SHARED },
		{ .raw = (char *)"Other.bob.INBOX", .sep = '.', .ns = NS_OTHER },
	};
	size_t n = sizeof(f) / sizeof(f[0]);
	struct tree *t = NULL;
	struct dnode *d;
	uint32_t uid = 0;

	CHECK(tree_build(f, n, 0, &t) == MS_OK);
	CHECK((d = walk(t, "INBOX/cur")) && d->kind == DN_CUR && d->folder);
	CHECK((d = walk(t, "Lists")) && !d->folder && !tree_child(d, "cur"));
	CHECK((d = walk(t, "Lists/%63ur/cur")) && d->folder && !strcmp(d->folder->name, "Lists.cur"));
	CHECK((d = walk(t, "Lists/2024")) && d->folder && d->folder->special_use == SU_ARCHIVE);
	CHECK((d = walk(t, "a%2Fb/new")) && d->kind == DN_NEW && !strcmp(d->folder->raw, "a/b"));
	CHECK(walk(t, "50%25/tmp") != NULL);
	CHECK((d = walk(t, "Entwürfe")) && !strcmp(d->folder->name, "Entwürfe"));
	CHECK(walk(t, "#shared/Public/News/cur") != NULL);
	CHECK(walk(t, "#users/Other/bob/INBOX/cur") != NULL);
	CHECK(walk(t, "a/b") == NULL);
	CHECK(t->nfolders == 8);
	/* message inode numbers round-trip and never collide with directories */
	d = walk(t, "Lists/2024/cur");
	CHECK(tree_msg_ino(d->folder, 77) > t->nnodes);
	CHECK(tree_msg_folder(t, tree_msg_ino(d->folder, 77), &uid) == d->folder && uid == 77);
	CHECK(tree_msg_folder(t, d->ino, &uid) == NULL);
	CHECK(tree_dir(t, tree_msg_ino(d->folder, 1)) == NULL);
	tree_free(t);

	CHECK(tree_build(f, n, 1, &t) == MS_OK);
	CHECK(walk(t, "#shared") == NULL && walk(t, "#users") == NULL && t->nfolders == 6);
	tree_free(t);
}

static struct body *mk(uint64_t ino, size_t len)
{
	char *p = malloc(len);

	memset(p, 'x', len);
	return body_new(p, len, ino, 1);
}

static void test_bodycache(void)
{
	struct bodycache *bc = bodycache_new(1000);
	struct body *a = mk(1, 400), *b = mk(2, 400), *c = mk(3, 400), *big = mk(4, 2000), *g;

	bodycache_add(bc, a);
	bodycache_add(bc, b);
	CHECK(bodycache_bytes(bc) == 800);
	g = bodycache_get(bc, 1, 1); /* a is now the most recent */
	CHECK(g == a);
	body_put(g);
	CHECK(bodycache_get(bc, 1, 2) == NULL); /* another UIDVALIDITY */
	bodycache_add(bc, c);                   /* 1200 > 1000: b (least recent) goes */
	CHECK(bodycache_bytes(bc) == 800);
	CHECK((g = bodycache_get(bc, 2, 1)) == NULL);
	CHECK((g = bodycache_get(bc, 3, 1)) == c);
	body_put(g);
	CHECK(b->len == 400 && b->data[399] == 'x'); /* evicted, still ours */
	bodycache_add(bc, big);                      /* larger than the bound: not cached */
	CHECK(bodycache_get(bc, 4, 1) == NULL && bodycache_bytes(bc) == 800);
	body_put(a);
	body_put(b);
	body_put(c);
	body_put(big);
	bodycache_free(bc);
}

/* A page-cache note counts its own size, not the message's, against the bound. */
static void test_bodycache_notes(void)
{
	struct bodycache *bc = bodycache_new(1000);
	struct body *n = body_new(NULL, 5000000, 7, 1), *a = mk(1, 900), *g;

	bodycache_add(bc, n);
	CHECK((g = bodycache_get(bc, 7, 1)) == n && g->len == 5000000 && !g->data);
	body_put(g);
	CHECK(bodycache_bytes(bc) > 0 && bodycache_bytes(bc) < 100);
	bodycache_add(bc, a); /* fits next to the note: nothing evicted */
	CHECK((g = bodycache_get(bc, 1, 1)) == a);
	body_put(g);
	CHECK((g = bodycache_get(bc, 7, 1)) == n);
	body_put(g);
	body_put(n);
	body_put(a);
	bodycache_free(bc);
}

/*
 * A body handed out to its end in order becomes a note (its bytes freed
 * with the last reference); one read out of order, or evicted, stays.
 */
static void test_bodycache_served(void)
{
	struct bodycache *bc = bodycache_new(1000);
	struct body *a = mk(1, 300), *b = mk(2, 300), *c = mk(3, 300), *g;

	bodycache_add(bc, a);
	bodycache_add(bc, b);
	bodycache_served(bc, a, 0, 100);
	bodycache_served(bc, a, 200, 100); /* a gap: not all of it out in order yet */
	CHECK((g = bodycache_get(bc, 1, 1)) == a && bodycache_bytes(bc) == 600);
	body_put(g);
	bodycache_served(bc, a, 100, 200); /* overlaps the first: now to the end */
	CHECK((g = bodycache_get(bc, 1, 1)) && g != a && !g->data && g->len == 300);
	body_put(g);
	CHECK(a->data && a->data[299] == 'x'); /* our reference keeps the bytes */
	CHECK(bodycache_bytes(bc) > 300 && bodycache_bytes(bc) < 400);
	bodycache_served(bc, b, 100, 200); /* not from the first byte: held */
	CHECK((g = bodycache_get(bc, 2, 1)) == b);
	body_put(g);
	bodycache_served(bc, c, 0, 300); /* not in the cache: nothing changes */
	CHECK(bodycache_get(bc, 3, 1) == NULL);
	body_put(a);
	body_put(b);
	body_put(c);
	bodycache_free(bc);
}

void msfs_log(const char *fmt, ...)
{
}

int main(void)
{
	test_tree();
	test_bodycache();
	test_bodycache_notes();
	test_bodycache_served();
	return unit_done();
}
