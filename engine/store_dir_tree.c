/*
 * store_dir_tree.c - which layout a directory tree is, and its folders
 * (the detection and naming rules are in store_dir.h), plus the small path
 * and xattr helpers the directory stores share.  A folder directory that is
 * a symbolic link, or whose cur/ or new/ is one, is listed as unreadable
 * and never walked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "imap.h"
#include "mname.h"
#include "store_dir_int.h"

/* Deeper folder trees than this are refused rather than walked. */
#define MAX_DEPTH 64
/* A folder directory that is a symbolic link: never walked nor read. */
#define LINKED_DIR "a symbolic link: not followed"
#define XATTR_MAX 4096

enum ms_status dir_fail(char *err, size_t errlen, enum ms_status st, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return st;
}

enum ms_status dir_errno_status(int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return MS_ERR_NOTFOUND;
	return e == ENOMEM ? MS_ERR_NOMEM : MS_ERR_IO;
}

char *dir_join(const char *a, const char *b)
{
	char *s;

	if (!b[0] || !strcmp(b, "."))
		return strdup(a);
	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

/* lstat() of dir/name into st; -1 when it cannot be had. */
static int entry_stat(const char *dir, const char *name, struct stat *st)
{
	char *p = dir_join(dir, name);
	int rc = p ? lstat(p, st) : -1;

	free(p);
	return rc;
}

int dir_is_subdir(const char *dir, const char *name)
{
	struct stat st;

	return !entry_stat(dir, name, &st) && S_ISDIR(st.st_mode);
}

/* dir/name is a symbolic link to a directory: a folder the tree does not walk. */
static int is_linked_dir(const char *dir, const char *name)
{
	char *p = dir_join(dir, name);
	struct stat st;
	int linked = p && !lstat(p, &st) && S_ISLNK(st.st_mode) && !stat(p, &st) &&
		     S_ISDIR(st.st_mode);

	free(p);
	return linked;
}

char *dir_xattr(const char *path, const char *name, int *unsupported)
{
	char val[XATTR_MAX];
	ssize_t n = lgetxattr(path, name, val, sizeof(val) - 1);

	if (n < 0) {
		if (unsupported && (errno == ENOTSUP || errno == ENOSYS))
			*unsupported = 1;
		return NULL;
	}
	val[n] = '\0';
	return strdup(val);
}

int dir_set_xattr(const char *path, int fd, const char *name, const char *value)
{
	int r = fd >= 0 ? fsetxattr(fd, name, value, strlen(value), 0)
			: setxattr(path, name, value, strlen(value), 0);

	if (r < 0 && (errno == ENOTSUP || errno == EPERM || errno == ENOSYS))
		return 0;
	return r;
}

static int has_file(const char *dir, const char *name)
{
	struct stat st;

	return !entry_stat(dir, name, &st);
}

static int is_link(const char *dir, const char *name)
{
	struct stat st;

	return !entry_stat(dir, name, &st) && S_ISLNK(st.st_mode);
}

static int is_maildir(const char *dir)
{
	return dir_is_subdir(dir, "cur") || dir_is_subdir(dir, "new");
}

/* Why the folder directory dir is not read: its cur/ or new/ is a link. */
static const char *folder_refusal(const char *dir)
{
	if (is_link(dir, "cur") || is_link(dir, "new"))
		return "its cur/ or new/ is a symbolic link: not followed";
	return NULL;
}

/* A ".Name" directory holding a Maildir directly below root. */
static int has_maildirpp_child(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char *p;

		if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = dir_join(root, e->d_name);
		found = p && is_maildir(p);
		free(p);
	}
	closedir(d);
	return found;
}

enum ms_status dir_detect(const char *root, enum dir_layout *layout, char *err, size_t errlen)
{
	struct stat st;

	if (stat(root, &st) < 0)
		return dir_fail(err, errlen, dir_errno_status(errno), "%s: %s", root,
				strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dir_fail(err, errlen, MS_ERR_USAGE, "%s: not a directory", root);
	if (!dir_is_subdir(root, "cur") && !is_link(root, "cur")) /* linked: folder_refusal() */
		*layout = DIR_TREE;
	else if (has_maildirpp_child(root) || has_file(root, "dovecot-uidlist") ||
		 has_file(root, "dovecot-keywords") || has_file(root, "courierimapuiddb"))
		*layout = DIR_MAILDIRPP;
	else
		*layout = DIR_MAILDIR;
	return MS_OK;
}

/* ---- the folder list ---- */

struct folder_list {
	struct store_folder *f;
	size_t n, cap;
	const char *root;
	char *err;
	size_t errlen;
};

static const struct {
	const char *name;
	unsigned su;
} well_known[] = {
	{ "Sent", SU_SENT },	       { "Sent Items", SU_SENT },    { "Sent Messages", SU_SENT },
	{ "Drafts", SU_DRAFTS },       { "Trash", SU_TRASH },	     { "Deleted Items", SU_TRASH },
	{ "Deleted Messages", SU_TRASH }, { "Junk", SU_JUNK },	     { "Spam", SU_JUNK },
	{ "Junk E-Mail", SU_JUNK },    { "Archive", SU_ARCHIVE },    { "Archives", SU_ARCHIVE },
};

static unsigned special_use_of(const char *dir, const char *name)
{
	char *v = dir_xattr(dir, "user.imap.special_use", NULL);
	unsigned su = 0;
	size_t i;

	if (v) {
		char *save = NULL, *t;

		for (t = strtok_r(v, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
			su |= role_su_from_attr(t);
		free(v);
		return su;
	}
	for (i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++)
		if (!strcasecmp(name, well_known[i].name))
			return well_known[i].su;
	return 0;
}

/* The server's separator when user.imap.name is name with '/' replaced by it. */
static char separator_of(const char *dir, const char *name)
{
	char *v = dir_xattr(dir, "user.imap.name", NULL);
	const char *slash = strchr(name, '/');
	char sep = '/';
	size_t i;

	if (v && slash && strlen(v) == strlen(name)) {
		sep = v[slash - name];
		for (i = 0; name[i]; i++)
			if (name[i] == '/' ? v[i] != sep : v[i] != name[i])
				sep = '/';
	}
	free(v);
	return sep;
}

/* refusal: why the folder is not read (a linked directory), NULL: look at its cur/ and new/. */
static enum ms_status add_folder(struct folder_list *l, const char *name, const char *rel,
				 int selectable, const char *refusal)
{
	struct store_folder *f;
	char *dir;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;

		f = realloc(l->f, ncap * sizeof(*f));
		if (!f)
			return MS_ERR_NOMEM;
		l->f = f;
		l->cap = ncap;
	}
	f = &l->f[l->n];
	memset(f, 0, sizeof(*f));
	dir = dir_join(l->root, rel);
	f->name = strdup(name);
	f->id = strdup(rel[0] ? rel : ".");
	if (!dir || !f->name || !f->id) {
		free(dir);
		free(f->name);
		free(f->id);
		return MS_ERR_NOMEM;
	}
	f->sep = separator_of(dir, name);
	f->special_use = special_use_of(dir, strchr(name, '/') ? "" : name);
	f->ns = NS_PERSONAL;
	f->selectable = selectable;
	f->subscribed = 1; /* a directory has no subscriptions: all count as subscribed */
	f->unreadable = refusal ? refusal : folder_refusal(dir);
	free(dir);
	l->n++;
	return MS_OK;
}

/* A path component as a folder-name level: unescaped when canonical, else verbatim. */
static char *level_name(const char *comp, int top)
{
	char *s = mname_unescape_component(comp);

	if (!s && errno == ENOMEM)
		return NULL;
	if (!s)
		s = strdup(comp);
	if (s && top && !strcasecmp(s, "INBOX"))
		memcpy(s, "INBOX", 5);
	return s;
}

static enum ms_status walk(struct folder_list *l, const char *rel, const char *name, int depth);

/*
 * One subdirectory of rel: recurse, then add it if it is a folder or has some
 * below.  A linked one (refusal set) is added as it is, not walked.
 */
static enum ms_status walk_entry(struct folder_list *l, const char *rel, const char *name,
				 const char *comp, int depth, const char *refusal)
{
	char *crel = NULL, *cname = NULL, *level = NULL, *dir = NULL;
	enum ms_status st = MS_ERR_NOMEM;
	size_t before = l->n;

	level = level_name(comp, !rel[0]);
	crel = rel[0] ? dir_join(rel, comp) : strdup(comp);
	if (!level || !crel)
		goto out;
	cname = name[0] ? dir_join(name, level) : strdup(level);
	dir = dir_join(l->root, crel);
	if (!cname || !dir)
		goto out;
	if (refusal) {
		st = add_folder(l, cname, crel, 1, refusal);
		goto out;
	}
	if ((st = walk(l, crel, cname, depth + 1)))
		goto out;
	if (is_maildir(dir) || l->n > before || folder_refusal(dir))
		st = add_folder(l, cname, crel, is_maildir(dir), NULL);
out:
	free(crel);
	free(cname);
	free(level);
	free(dir);
	return st;
}

/* Folders below root/rel (layouts (a) and (b)); name is rel's folder name. */
static enum ms_status walk(struct folder_list *l, const char *rel, const char *name, int depth)
{
	char *dir = dir_join(l->root, rel);
	enum ms_status st = MS_OK;
	struct dirent *e;
	DIR *d;

	if (!dir)
		return MS_ERR_NOMEM;
	if (depth > MAX_DEPTH) {
		st = dir_fail(l->err, l->errlen, MS_ERR_USAGE, "%s: folders nested too deep", dir);
		goto out;
	}
	d = opendir(dir);
	if (!d) {
		st = dir_fail(l->err, l->errlen, dir_errno_status(errno), "%s: %s", dir,
			      strerror(errno));
		goto out;
	}
	while (!st && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "cur") || !strcmp(e->d_name, "new") ||
		    !strcmp(e->d_name, "tmp"))
			continue;
		if (dir_is_subdir(dir, e->d_name))
			st = walk_entry(l, rel, name, e->d_name, depth, NULL);
		else if (is_linked_dir(dir, e->d_name))
			st = walk_entry(l, rel, name, e->d_name, depth, LINKED_DIR);
	}
	closedir(d);
out:
	free(dir);
	return st;
}

/* Layout (c): the ".A.B" directories directly below root. */
static enum ms_status walk_maildirpp(struct folder_list *l)
{
	enum ms_status st = MS_OK;
	struct dirent *e;
	DIR *d = opendir(l->root);

	if (!d)
		return dir_fail(l->err, l->errlen, dir_errno_status(errno), "%s: %s", l->root,
				strerror(errno));
	while (!st && (e = readdir(d))) {
		char *dir, *name;
		int linked;

		if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		linked = is_linked_dir(l->root, e->d_name);
		dir = dir_join(l->root, e->d_name);
		if (!dir)
			st = MS_ERR_NOMEM;
		if (dir && (linked || (dir_is_subdir(l->root, e->d_name) &&
				       (is_maildir(dir) || folder_refusal(dir))))) {
			name = mname_maildirpp_to_folder(e->d_name, '/');
			if (!name && errno != ENOMEM)
				name = strdup(e->d_name + 1);
			st = name ? add_folder(l, name, e->d_name, 1, linked ? LINKED_DIR : NULL)
				  : MS_ERR_NOMEM;
			free(name);
		}
		free(dir);
	}
	closedir(d);
	return st;
}

enum ms_status dir_folders(const char *root, enum dir_layout layout, struct store_folder **out,
			   size_t *n, char *err, size_t errlen)
{
	struct folder_list l = { NULL, 0, 0, root, err, errlen };
	enum ms_status st = MS_OK;

	if (layout != DIR_TREE)
		st = add_folder(&l, "INBOX", "", 1, NULL);
	if (!st)
		st = layout == DIR_MAILDIRPP ? walk_maildirpp(&l) : walk(&l, "", "", 0);
	if (st) {
		if (st == MS_ERR_NOMEM)
			dir_fail(err, errlen, st, "out of memory");
		store_folders_free(l.f, l.n);
		return st;
	}
	if (l.n)
		store_folders_sort(l.f, l.n);
	*out = l.f;
	*n = l.n;
	return MS_OK;
}

/*
 * The engine's own definitions (msgstore.c on the copy branch) take
 * precedence; these keep the directory stores and their tests linkable
 * until that lands.
 */
__attribute__((weak)) void store_folders_free(struct store_folder *f, size_t n)
{
	size_t i;

	for (i = 0; f && i < n; i++) {
		free(f[i].name);
		free(f[i].id);
	}
	free(f);
}

__attribute__((weak)) void store_msgs_free(struct store_msg *m, size_t n)
{
	size_t i;

	for (i = 0; m && i < n; i++) {
		free(m[i].key);
		free(m[i].flags);
		free(m[i].bad_flags);
		free(m[i].message_id);
	}
	free(m);
}
