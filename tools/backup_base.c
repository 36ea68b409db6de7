/*
 * backup_base.c - the base of an incremental backup: OLD's manifest turned
 * into a temporary copy-engine state that says "already backed up" for each
 * of OLD's messages.  See backup_base.h.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backup_base.h"
#include "store_archive.h"

/* OLD's messages without a UID: recorded under this UIDVALIDITY, matched by content only. */
#define NO_UID_VALIDITY 0

static enum ms_status seed_one(struct backup_base *b, size_t i)
{
	const struct manifest_msg *m = &b->man.msgs[i];
	struct state_rec r = { 0 };
	char key[32];

	if (m->uid && m->uidvalidity) {
		snprintf(key, sizeof(key), "%u", m->uid);
		r.uidvalidity = m->uidvalidity;
	} else {
		snprintf(key, sizeof(key), "base-%zu", i);
		r.uidvalidity = NO_UID_VALIDITY;
	}
	r.key = key;
	r.size = m->size;
	memcpy(r.sha256, m->sha256, sizeof(r.sha256));
	r.message_id = m->message_id;
	r.flags = m->flags;
	r.internaldate = m->internaldate;
	r.dest_folder = m->folder;
	r.dest_uidvalidity = m->uidvalidity;
	r.dest_uid = m->uid;
	r.status = STATE_COPIED;
	return state_put(b->state, m->folder, &r);
}

static int make_dir(struct backup_base *b, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	if (asprintf(&b->dir, "%s/mailstage-base-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
		b->dir = NULL;
		return snprintf(err, errlen, "out of memory"), -1;
	}
	if (!mkdtemp(b->dir)) {
		snprintf(err, errlen, "cannot create a temporary directory in %s",
			 tmp && *tmp ? tmp : "/tmp");
		free(b->dir);
		b->dir = NULL;
		return -1;
	}
	return 0;
}

int backup_base_open(struct backup_base *b, const char *old, char *err, size_t errlen)
{
	char path[4200];
	const char *slash = strrchr(old, '/');
	enum ms_status st;

	memset(b, 0, sizeof(*b));
	if (store_archive_read_manifest(old, &b->man, err, errlen))
		return -1;
	if (!(b->name = strdup(slash ? slash + 1 : old)) || make_dir(b, err, errlen))
		goto fail;
	snprintf(path, sizeof(path), "%s/base.sqlite", b->dir);
	if (state_open(path, old, "incremental backup", &b->state, err, errlen))
		goto fail;
	for (st = MS_OK; !st && b->seeded < b->man.nmsgs; b->seeded++)
		st = seed_one(b, b->seeded);
	if (st || state_flush(b->state)) {
		snprintf(err, errlen, "cannot record the base's messages: %s",
			 state_errmsg(b->state));
		goto fail;
	}
	return 0;
fail:
	backup_base_close(b);
	return -1;
}

void backup_base_close(struct backup_base *b)
{
	char path[4200];
	struct dirent *e;
	DIR *d;

	state_close(b->state);
	if (b->dir && (d = opendir(b->dir))) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				snprintf(path, sizeof(path), "%s/%s", b->dir, e->d_name);
				unlink(path);
			}
		closedir(d);
		rmdir(b->dir);
	}
	manifest_free(&b->man);
	free(b->dir);
	free(b->name);
	memset(b, 0, sizeof(*b));
}
