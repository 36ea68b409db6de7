/*
 * tree.h - the directory skeleton of the mount and its inode numbers.
 *
 * Built once at mount time from one LIST; never changes afterwards (a folder
 * created on the server later appears at the next mount).  Layout:
 *
 *   /                    root (FUSE_ROOT_ID)
 *   /INBOX/{cur,new,tmp} one directory per selectable folder
 *   /Lists/2024/...      child folders as subdirectories
 *   /#shared/...         shared-namespace folders, /#users/... other users'
 *                        (both left out with -o hide_shared)
 *
 * Each path component is the folder's name decoded from modified UTF-7 and
 * escaped with mname_escape_component(), so the mapping is reversible.
 *
 * Inode numbers: directories are 1..2^32-1 (index in the node table + 1);
 * a message is ((folder index + 1) << 32) | UID, with UIDVALIDITY as the FUSE
 * generation, so a message needs no table entry, lookups are O(1) and
 * forget has nothing to free.  No number is ever reused for other content
 * within a mount (a new UIDVALIDITY changes the generation).
 *
 * Thread safety: the tree is immutable after tree_build(); any thread may
 * read it without locks.  struct folder's listing fields are guarded by
 * folder->mu and belong to listing.c.
 */
#ifndef MS_TREE_H
#define MS_TREE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "imap.h"

enum dnode_kind {
	DN_DIR, /* root, a folder, or a level without a selectable folder */
	DN_CUR, /* the folder's messages */
	DN_NEW, /* always empty */
	DN_TMP, /* always empty */
};

struct listing;
struct folder;

struct dnode {
	uint64_t ino;
	enum dnode_kind kind;
	char *name;             /* path component; "" for the root */
	struct dnode *parent;   /* the root is its own parent */
	struct dnode **kids;    /* sorted by name (strcmp) */
	size_t nkids;
	struct folder *folder;  /* selectable folder of this dir / its cur,new,tmp; or NULL */
};

/* A size the server advertised wrongly, and the true one (fetched). */
struct sizefix {
	uint32_t uidvalidity, uid;
	uint64_t size;
};

#define PF_STORING_MAX 10 /* connections= is at most 10 (options.c) */

struct folder {
	size_t idx;             /* message inode numbers use idx + 1 */
	char *raw;              /* name on the wire (modified UTF-7) */
	char *name;             /* UTF-8, with the server's separator: user.imap.name */
	unsigned special_use;   /* SU_* */
	uint32_t status_messages;
	uint64_t status_size;   /* summed sizes from STATUS, 0 if unknown */
	struct dnode *dir, *cur;
	/* guarded by mu, owned by listing.c */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct listing *list;   /* NULL until first loaded */
	int loading;
	time_t checked, used;   /* last refresh, last access (monotonic seconds) */
	struct sizefix *fixes;
	size_t nfixes;
	int want_msgids;        /* someone asked for user.imap.message_id */
	/* guarded by mu, owned by reader.c: sequential-open detection */
	size_t last_open;       /* listing index of the last message opened + 1 */
	unsigned ra;            /* messages to fetch ahead, grows while sequential */
	uint32_t ra_end;        /* highest UID any batch asked for so far */
	uint32_t pf_first, pf_last; /* UIDs of the background batch in flight */
	int pf_busy;            /* a background batch is in flight (cv: each body) */
	int pf_more;            /* the reader asked for more meanwhile: go on after it */
	/* UIDs batches are storing into the page cache now (0: free): one per
	   batch at a time, and there is at most one batch per connection */
	uint32_t pf_storing[PF_STORING_MAX];
	uint32_t pf_wait[4];    /* UIDs unopened READs wait for: kept out of the page cache */
};

struct tree {
	struct dnode **nodes;   /* index ino - 1 */
	size_t nnodes;
	struct folder **folders;
	size_t nfolders;
};

/*
 * Build the tree from LIST's folders.  hide_shared leaves out the shared and
 * other-users namespaces.  A folder whose name cannot be mapped (a component
 * longer than 255 bytes) is left out and named in the log.
 */
enum ms_status tree_build(const struct imap_folder *f, size_t n, int hide_shared,
			  struct tree **out);
void tree_free(struct tree *t);

/* The directory with inode number ino, or NULL (also for message inodes). */
struct dnode *tree_dir(const struct tree *t, uint64_t ino);
/* The child of d called name, or NULL (binary search). */
struct dnode *tree_child(const struct dnode *d, const char *name);

/* Message inode numbers. */
static inline uint64_t tree_msg_ino(const struct folder *f, uint32_t uid)
{
	return ((uint64_t)(f->idx + 1) << 32) | uid;
}
/* The folder and UID of a message inode, or NULL if ino is not one. */
struct folder *tree_msg_folder(const struct tree *t, uint64_t ino, uint32_t *uid);

#endif
