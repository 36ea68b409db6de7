/*
 * copy_root.c - copy_opts.source_root: an account that sees another user's
 * mailbox as a subtree (an admin's "Other Users/alice", Cyrus "user.alice",
 * Courier's virtual shared "users/terry.adams") is copied as if that
 * subtree were the whole mailbox.
 *
 * Applied to the source's folder list before anything is planned: folders
 * outside the root are dropped (not reported: they belong to other users),
 * the others lose the root's levels from their names, so rules, destination
 * names, the state and the reports all see the user's own names; the root
 * itself, when it holds mail, becomes INBOX.  The root matches either the
 * folder names (levels joined with '/') or the server's own names (its
 * separator), so "user.alice" and "user/alice" both work on Cyrus.  The
 * kept folders count as personal: the root chose them, so a shared
 * namespace's default exclusion does not apply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "copy_int.h"

static size_t count_levels(const char *root, char sep)
{
	size_t levels = 1;

	for (const char *p = root; *p; p++)
		levels += *p == sep;
	return levels;
}

/* How many levels of the folder's name are the root (0: not under it). */
static size_t root_levels(const char *root, const struct store_folder *f)
{
	size_t n = strlen(root);
	char sep = f->sep ? f->sep : '/';

	if (!strncmp(f->name, root, n) && (!f->name[n] || f->name[n] == '/'))
		return count_levels(root, '/');
	if (f->id && !strncmp(f->id, root, n) && (!f->id[n] || f->id[n] == sep))
		return count_levels(root, sep);
	return 0;
}

static void folder_free(struct store_folder *f)
{
	free(f->name);
	free(f->id);
}

/* The name without its first levels; "INBOX" when nothing is left. */
static char *strip_levels(const char *name, size_t levels)
{
	const char *p = name;

	while (levels-- && p) {
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return strdup(p && *p ? p : "INBOX");
}

static int is_inbox(const char *name)
{
	return !strcasecmp(name, "INBOX");
}

/* The root itself and root/INBOX both holding mail: which is the INBOX? */
static enum ms_status check_inboxes(struct crun *r)
{
	int n = 0;

	for (size_t i = 0; i < r->nsf; i++)
		n += r->sf[i].selectable && is_inbox(r->sf[i].name);
	if (n <= 1)
		return MS_OK;
	snprintf(r->err, sizeof(r->err), "source root '%s': both it and its INBOX hold mail; give "
		 "the one to copy as the root", r->o->source_root);
	return MS_ERR_USAGE;
}

enum ms_status copy_source_root(struct crun *r)
{
	const char *root = r->o->source_root;
	enum ms_status st = MS_OK;
	size_t k = 0, levels;
	char *name;

	if (!root || !*root)
		return MS_OK;
	for (size_t i = 0; i < r->nsf; i++) {
		struct store_folder *f = &r->sf[i];
		levels = st ? 0 : root_levels(root, f);
		name = levels ? strip_levels(f->name, levels) : NULL;
		if (levels && !name)
			st = MS_ERR_NOMEM;
		if (!name) {
			folder_free(f);
			continue;
		}
		free(f->name);
		f->name = name;
		f->ns = NS_PERSONAL;
		r->sf[k++] = *f;
	}
	r->nsf = k;
	if (st)
		return st;
	for (size_t i = 0; i < k; i++)
		if (r->sf[i].selectable)
			return check_inboxes(r);
	snprintf(r->err, sizeof(r->err), "source root '%s': the source shows no mailbox there",
		 root);
	return MS_ERR_NOTFOUND;
}
