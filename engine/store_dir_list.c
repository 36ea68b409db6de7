/*
 * store_dir_list.c - the messages of one folder directory: names, xattrs,
 * dovecot-uidlist or courierimapuiddb, dovecot-keywords and Courier's
 * courierimapkeywords/ combined into store_msg facts, in the order and with
 * the keys store_dir.h promises.
 *
 * Two passes: first every file's own facts (name, stat, xattrs, header),
 * then the folder-wide decisions (which UIDVALIDITY is the folder's, which
 * UIDs are trusted, keys, order) that need all of them.
 *
 * Everything is opened below the folder's descriptor with store_dir_open.c,
 * never following a link; an entry of cur/ or new/ that is not a regular
 * file is only lstat()ed, and listed as unreadable (store_dir_int.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "imapdate.h"
#include "maildir_meta.h"
#include "mname.h"
#include "store_dir_int.h"

#define UIDLIST_MAX (256u << 20)
#define KEYWORDS_MAX (1u << 20)
#define COURIER_LIST_MAX (64u << 20)
#define COURIER_DIR "courierimapkeywords"

struct ent {
	struct store_msg m;
	uint32_t uidvalidity;
	int uid_from_xattr; /* of two files claiming one UID, this one keeps it */
	char *rel;
};

/* What the whole folder contributes to each message. */
struct folder_ctx {
	int fd;          /* the folder directory */
	const char *dir; /* its path: xattrs, messages */
	enum dir_keys keys;
	struct uidlist ul;
	int have_ul;
	struct keywords kw;
	struct courier_keywords ck;
	int no_xattrs; /* the filesystem has none: stop asking */
	char *hdr;     /* DIR_HEADER_MAX bytes, reused */
	struct ent *e;
	size_t n, cap;
	char *err;
	size_t errlen;
};

/* The UID list of a folder: Dovecot's, else Courier's (whose courierimapuiddb
 * is the same "1 <uidvalidity> <nextuid>" format; Courier writes it when a
 * folder is first SELECTed). */
static void load_uid_list(struct folder_ctx *c)
{
	static const char *const names[] = { "dovecot-uidlist", "courierimapuiddb" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !c->have_ul; i++) {
		struct buf b = BUF_INIT(UIDLIST_MAX);

		if (dir_read_file(c->fd, names[i], &b) == MS_OK &&
		    uidlist_parse(b.data, b.len, &c->ul) == MS_OK)
			c->have_ul = 1;
		buf_free(&b);
	}
}

static void load_meta_files(struct folder_ctx *c)
{
	struct buf b;

	load_uid_list(c);
	buf_init(&b, KEYWORDS_MAX);
	if (dir_read_file(c->fd, "dovecot-keywords", &b) == MS_OK)
		keywords_parse(b.data, b.len, &c->kw);
	buf_free(&b);
}

/* A change file of courierimapkeywords/: its name and which message it is for. */
struct kw_change {
	char *name;
	size_t skip;             /* name + skip is the message's file name */
	unsigned long long rank; /* higher is newer */
};

static int change_order(const void *a, const void *b)
{
	const struct kw_change *x = a, *y = b;
	int c = strcmp(x->name + x->skip, y->name + y->skip);

	if (c)
		return c;
	return x->rank > y->rank ? -1 : x->rank < y->rank;
}

static enum ms_status list_changes(DIR *d, struct kw_change **out, size_t *n)
{
	struct kw_change *v = NULL, *nv;
	size_t cap = 0;
	struct dirent *de;

	*n = 0;
	while ((de = readdir(d))) {
		struct kw_change k;

		if (!courier_update_name(de->d_name, &k.skip, &k.rank))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(nv = realloc(v, cap * sizeof(*v))))
				break;
			v = nv;
		}
		if (!(k.name = strdup(de->d_name)))
			break;
		v[(*n)++] = k;
	}
	*out = v;
	return de ? MS_ERR_NOMEM : MS_OK;
}

/* Each message's newest change file (in the directory kfd) replaces what ":list" says of it. */
static void apply_changes(struct folder_ctx *c, int kfd)
{
	struct kw_change *v = NULL;
	size_t n = 0, i;
	int dfd = dup(kfd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	if (list_changes(d, &v, &n))
		goto out; /* no memory: ":list" alone */
	if (n)
		qsort(v, n, sizeof(*v), change_order);
	for (i = 0; i < n; i++) {
		const char *msg = v[i].name + v[i].skip;
		struct buf b = BUF_INIT(KEYWORDS_MAX);

		if (i && !strcmp(msg, v[i - 1].name + v[i - 1].skip))
			continue; /* an older change of the same message */
		if (dir_read_file(kfd, v[i].name, &b) == MS_OK)
			courier_update_add(&c->ck, msg, strcspn(msg, ":"), b.data ? b.data : "",
					   b.len);
		buf_free(&b);
	}
out:
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	closedir(d);
}

/* Courier-IMAP's keywords (maildir_meta.h), when the folder has them. */
static void load_courier(struct folder_ctx *c)
{
	struct buf b = BUF_INIT(COURIER_LIST_MAX);
	int kfd = dir_open_dir(c->fd, COURIER_DIR);

	if (kfd >= 0 && dir_read_file(kfd, ":list", &b) == MS_OK)
		courier_list_parse(b.data ? b.data : "", b.len, &c->ck);
	if (kfd >= 0) {
		apply_changes(c, kfd);
		close(kfd);
	}
	courier_keywords_sort(&c->ck);
	buf_free(&b);
}

/* The Message-ID in the header of name below the directory sfd. */
static char *read_message_id(struct folder_ctx *c, int sfd, const char *name)
{
	size_t got = 0;
	ssize_t r;
	int fd = dir_open_file(sfd, name);

	if (fd < 0)
		return NULL;
	while (got < DIR_HEADER_MAX && (r = read(fd, c->hdr + got, DIR_HEADER_MAX - got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return header_message_id(c->hdr, got);
}

/*
 * Keywords from the info letters via dovecot-keywords, then Courier's for
 * the file, space-separated, each once.
 */
static char *letter_keywords(const struct folder_ctx *c, const char *name)
{
	char letters[27], *s;
	struct buf b = BUF_INIT(1u << 20);
	const char *ck = courier_keywords_find(&c->ck, name, strcspn(name, ":"));
	unsigned sys;
	size_t i;

	mname_keyword_letters(name, letters);
	for (i = 0; letters[i]; i++) {
		const char *k = c->kw.kw[letters[i] - 'a'];

		if (k && ((b.len && buf_addc(&b, ' ')) || buf_adds(&b, k)))
			break;
	}
	if (ck && *ck && (!b.len || !buf_addc(&b, ' ')))
		(void)buf_adds(&b, ck); /* too long: the letters' alone */
	s = flags_split(b.data ? b.data : "", &sys);
	buf_free(&b);
	return s;
}

/* uid/uidvalidity/date/zone/message-id from the user.imap.* xattrs; 1 if it has uid. */
static int xattr_facts(struct folder_ctx *c, const char *path, struct ent *e, char **xflags)
{
	char *uid = NULL, *uidv = NULL, *date = NULL;
	int has_uid = 0;

	*xflags = NULL;
	if (c->no_xattrs)
		return 0;
	uid = dir_xattr(path, "user.imap.uid", &c->no_xattrs);
	if (c->no_xattrs)
		return 0;
	uidv = dir_xattr(path, "user.imap.uidvalidity", NULL);
	*xflags = dir_xattr(path, "user.imap.flags", NULL);
	date = dir_xattr(path, "user.imap.internaldate", NULL);
	if (uid && uidv) {
		unsigned long u = strtoul(uid, NULL, 10), v = strtoul(uidv, NULL, 10);

		if (u && v && u <= UINT32_MAX && v <= UINT32_MAX) {
			e->m.uid = (uint32_t)u;
			e->uidvalidity = (uint32_t)v;
		}
	}
	has_uid = uid != NULL;
	e->uid_from_xattr = e->m.uid != 0;
	if (date) {
		char *d = date + (date[0] == '"');

		d[strcspn(d, "\"")] = '\0';
		if (imapdate_parse(d, &e->m.internaldate, &e->m.tzoff))
			e->m.internaldate = LLONG_MIN;
	}
	e->m.message_id = dir_xattr(path, "user.imap.message_id", NULL);
	free(uid);
	free(uidv);
	free(date);
	return has_uid;
}

/* System flags (from the name's info, else the xattr) and keywords; the xattr's bad ones noted. */
static enum ms_status flag_facts(struct folder_ctx *c, const char *name,
				 unsigned sys, const char *xflags, struct ent *e)
{
	unsigned xsys = 0;
	char *kw = xflags ? flags_split(xflags, &xsys) : letter_keywords(c, name);

	if (kw && xflags)
		free(imapflag_clean(xflags, &e->m.bad_flags));
	if (!kw)
		return MS_ERR_NOMEM;
	if (xflags && maildir_unique_len(name) == strlen(name))
		sys = xsys;
	e->m.flags = flags_join(sys, kw);
	free(kw);
	return e->m.flags ? MS_OK : MS_ERR_NOMEM;
}

/* The facts of one file of sub ("cur" or "new", open as sfd); on failure the caller frees e. */
static enum ms_status file_facts(struct folder_ctx *c, const char *sub, int sfd, const char *name,
				 const struct stat *st, struct ent *e)
{
	struct mname_msg mm;
	enum mname_kind kind = mname_parse(name, &mm);
	char *path = NULL, *xflags = NULL;
	size_t ulen = maildir_unique_len(name);
	enum ms_status st_ = MS_ERR_NOMEM;
	int has_uid;

	memset(e, 0, sizeof(*e));
	e->m.internaldate = LLONG_MIN;
	if (asprintf(&e->rel, "%s/%s", sub, name) < 0) {
		e->rel = NULL;
		goto out;
	}
	if (!(path = dir_join(c->dir, e->rel)))
		goto out;
	has_uid = xattr_facts(c, path, e, &xflags);
	if (!e->m.uid && kind == MNAME_OURS) {
		e->m.uid = mm.uid;
		e->uidvalidity = mm.uidvalidity;
	}
	if (!e->m.uid && c->have_ul && (e->m.uid = uidlist_find(&c->ul, name, ulen)))
		e->uidvalidity = c->ul.uidvalidity;
	if (e->m.internaldate == LLONG_MIN)
		e->m.internaldate = kind == MNAME_OURS ? mm.internaldate : (long long)st->st_mtime;
	if (!e->m.message_id && !has_uid)
		e->m.message_id = read_message_id(c, sfd, name);
	if ((st_ = flag_facts(c, name, mm.flags, xflags, e)))
		goto out;
	e->m.size = (uint64_t)st->st_size;
	e->m.key = strndup(name, ulen);
	st_ = e->m.key ? MS_OK : MS_ERR_NOMEM;
out:
	free(path);
	free(xflags);
	return st_;
}

static void ent_free(struct ent *e)
{
	free(e->m.key);
	free(e->m.flags);
	free(e->m.bad_flags);
	free(e->m.message_id);
	free(e->rel);
}

/* An entry that is not read: its name and why, nothing from inside it. */
static enum ms_status refused_facts(const char *sub, const char *name, const struct stat *st,
				    struct ent *e)
{
	memset(e, 0, sizeof(*e));
	e->m.internaldate = (long long)st->st_mtime;
	e->m.unreadable = dir_entry_refusal(st->st_mode);
	if (asprintf(&e->rel, "%s/%s", sub, name) < 0)
		e->rel = NULL;
	e->m.key = strndup(name, maildir_unique_len(name));
	e->m.flags = strdup("");
	return e->rel && e->m.key && e->m.flags ? MS_OK : MS_ERR_NOMEM;
}

/* One entry of sub (open as sfd), st from lstat(). */
static enum ms_status add_file(struct folder_ctx *c, const char *sub, int sfd, const char *name,
			       const struct stat *st)
{
	enum ms_status s;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct ent *e = realloc(c->e, ncap * sizeof(*e));

		if (!e)
			return MS_ERR_NOMEM;
		c->e = e;
		c->cap = ncap;
	}
	if (S_ISREG(st->st_mode))
		s = file_facts(c, sub, sfd, name, st, &c->e[c->n]);
	else
		s = refused_facts(sub, name, st, &c->e[c->n]);
	if (s)
		ent_free(&c->e[c->n]);
	else
		c->n++;
	return s;
}

/*
 * Every non-hidden entry of cur/ or new/ (a missing one is fine): regular
 * files, and for a source the others too, as unreadable.
 */
static enum ms_status scan_sub(struct folder_ctx *c, const char *sub)
{
	int sfd = dir_open_dir(c->fd, sub);
	enum ms_status s = MS_OK;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (sfd < 0)
		return errno == ENOENT ? MS_OK
				       : dir_fail(c->err, c->errlen, MS_ERR_IO, "%s/%s: %s", c->dir,
						  sub, dir_open_strerror(errno));
	if (!(d = fdopendir(sfd))) {
		close(sfd);
		return MS_ERR_NOMEM;
	}
	while (!s && (de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (!S_ISREG(st.st_mode) && c->keys == DIR_KEYS_UNIQUE))
			continue;
		s = add_file(c, sub, sfd, de->d_name, &st);
	}
	closedir(d);
	return s;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* dovecot-uidlist's, else the most common among the messages, else 0. */
static uint32_t folder_uidvalidity(struct folder_ctx *c)
{
	uint32_t *v, best = 0;
	size_t i, k = 0, run = 0, best_run = 0;

	if (c->have_ul)
		return c->ul.uidvalidity;
	v = malloc((c->n + 1) * sizeof(*v));
	if (!v)
		return 0;
	for (i = 0; i < c->n; i++)
		if (c->e[i].m.uid)
			v[k++] = c->e[i].uidvalidity;
	qsort(v, k, sizeof(*v), u32_cmp);
	for (i = 0; i < k; i++) {
		run = i && v[i] == v[i - 1] ? run + 1 : 1;
		if (run > best_run) {
			best_run = run;
			best = v[i];
		}
	}
	free(v);
	return best;
}

static int ent_order(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (!x->m.uid != !y->m.uid)
		return x->m.uid ? -1 : 1;
	if (x->m.uid != y->m.uid)
		return x->m.uid < y->m.uid ? -1 : 1;
	if (x->uid_from_xattr != y->uid_from_xattr)
		return x->uid_from_xattr ? -1 : 1;
	if (x->m.internaldate != y->m.internaldate)
		return x->m.internaldate < y->m.internaldate ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

/* Drop UIDs of another UIDVALIDITY and repeated UIDs; set keys; final order. */
static enum ms_status settle_uids_and_keys(struct folder_ctx *c, uint32_t uidv, enum dir_keys keys)
{
	uint32_t last = 0;
	size_t i;

	if (!c->n)
		return MS_OK;
	for (i = 0; i < c->n; i++)
		if (c->e[i].m.uid && c->e[i].uidvalidity != uidv)
			c->e[i].m.uid = 0;
	qsort(c->e, c->n, sizeof(*c->e), ent_order);
	for (i = 0; i < c->n; i++) {
		if (c->e[i].m.uid && c->e[i].m.uid == last)
			c->e[i].m.uid = 0;
		else if (c->e[i].m.uid)
			last = c->e[i].m.uid;
	}
	qsort(c->e, c->n, sizeof(*c->e), ent_order);
	if (keys == DIR_KEYS_UNIQUE)
		return MS_OK;
	for (i = 0; i < c->n; i++) {
		char num[16];

		if (!c->e[i].m.uid)
			continue;
		snprintf(num, sizeof(num), "%u", (unsigned)c->e[i].m.uid);
		free(c->e[i].m.key);
		if (!(c->e[i].m.key = strdup(num)))
			return MS_ERR_NOMEM;
	}
	return MS_OK;
}

static int file_cmp(const void *a, const void *b)
{
	const struct dir_file *x = a, *y = b;

	return strcmp(x->key, y->key);
}

static int ent_key_cmp(const void *a, const void *b)
{
	const struct ent *const *x = a, *const *y = b;

	return strcmp((*x)->m.key, (*y)->m.key);
}

/* A key given twice becomes the later file's rel path (which holds a '/': no clash). */
static enum ms_status unique_keys(struct folder_ctx *c)
{
	struct ent **p = malloc((c->n + 1) * sizeof(*p));
	enum ms_status st = MS_OK;
	size_t i;

	if (!p)
		return MS_ERR_NOMEM;
	for (i = 0; i < c->n; i++)
		p[i] = &c->e[i];
	qsort(p, c->n, sizeof(*p), ent_key_cmp);
	for (i = 1; i < c->n && !st; i++) {
		char *k;

		if (strcmp(p[i]->m.key, p[i - 1]->m.key))
			continue;
		if (!(k = strdup(p[i]->rel))) {
			st = MS_ERR_NOMEM;
			break;
		}
		free(p[i]->m.key);
		p[i]->m.key = k;
	}
	free(p);
	return st;
}

/* files[] (own copies, sorted by key), then msgs[] taken from the entries. */
static enum ms_status hand_over(struct folder_ctx *c, struct dir_listing *out)
{
	size_t i;

	out->files = calloc(c->n + 1, sizeof(*out->files));
	out->msgs = calloc(c->n + 1, sizeof(*out->msgs));
	if (!out->files || !out->msgs)
		return MS_ERR_NOMEM;
	for (i = 0; i < c->n; i++) {
		out->files[i].key = strdup(c->e[i].m.key);
		out->files[i].rel = strdup(c->e[i].rel);
		out->n = i + 1;
		if (!out->files[i].key || !out->files[i].rel)
			return MS_ERR_NOMEM;
	}
	qsort(out->files, c->n, sizeof(*out->files), file_cmp);
	for (i = 0; i < c->n; i++) {
		out->msgs[i] = c->e[i].m;
		memset(&c->e[i].m, 0, sizeof(c->e[i].m));
	}
	return MS_OK;
}

enum ms_status dir_list_messages(int folder_fd, const char *folder_dir, enum dir_keys keys,
				 struct dir_listing *out, char *err, size_t errlen)
{
	struct folder_ctx c;
	enum ms_status st = MS_ERR_NOMEM;
	size_t i;

	memset(&c, 0, sizeof(c));
	memset(out, 0, sizeof(*out));
	c.fd = folder_fd;
	c.dir = folder_dir;
	c.keys = keys;
	c.err = err;
	c.errlen = errlen;
	if (!(c.hdr = malloc(DIR_HEADER_MAX)))
		goto out;
	load_meta_files(&c);
	load_courier(&c);
	if ((st = scan_sub(&c, "cur")) || (st = scan_sub(&c, "new")))
		goto out;
	out->uidvalidity = folder_uidvalidity(&c);
	if ((st = settle_uids_and_keys(&c, out->uidvalidity, keys)) || (st = unique_keys(&c)))
		goto out;
	st = hand_over(&c, out);
out:
	if (st == MS_ERR_NOMEM)
		dir_fail(err, errlen, st, "out of memory");
	if (st)
		dir_listing_free(out);
	for (i = 0; i < c.n; i++)
		ent_free(&c.e[i]);
	free(c.e);
	free(c.hdr);
	uidlist_free(&c.ul);
	keywords_free(&c.kw);
	courier_keywords_free(&c.ck);
	return st;
}

void dir_listing_free(struct dir_listing *l)
{
	size_t i;

	for (i = 0; l->files && i < l->n; i++) {
		free(l->files[i].key);
		free(l->files[i].rel);
	}
	free(l->files);
	if (l->msgs)
		store_msgs_free(l->msgs, l->n);
	memset(l, 0, sizeof(*l));
}

const struct dir_file *dir_listing_find(const struct dir_listing *l, const char *key)
{
	struct dir_file k = { (char *)key, NULL };

	if (!l->files)
		return NULL;
	return bsearch(&k, l->files, l->n, sizeof(*l->files), file_cmp);
}

/* The name in sub of the folder whose unique part is unique[0..ulen), malloc'd, or NULL. */
static char *find_in(int folder_fd, const char *sub, const char *unique, size_t ulen)
{
	int sfd = dir_open_dir(folder_fd, sub);
	DIR *d = sfd < 0 ? NULL : fdopendir(sfd);
	struct dirent *de;
	char *found = NULL;

	if (!d) {
		if (sfd >= 0)
			close(sfd);
		return NULL;
	}
	while (!found && (de = readdir(d)))
		if (de->d_name[0] != '.' && !strncmp(de->d_name, unique, ulen) &&
		    maildir_unique_len(de->d_name) == ulen)
			found = strdup(de->d_name);
	closedir(d);
	return found;
}

enum ms_status dir_find_unique(int folder_fd, const char *unique, size_t ulen, char **rel)
{
	static const char *const subs[] = { "cur", "new" };
	size_t i;

	*rel = NULL;
	for (i = 0; i < 2 && !*rel; i++) {
		char *name = find_in(folder_fd, subs[i], unique, ulen);

		if (name && asprintf(rel, "%s/%s", subs[i], name) < 0)
			*rel = NULL;
		free(name);
	}
	return *rel ? MS_OK : MS_ERR_NOTFOUND;
}
