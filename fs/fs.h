/*
 * fs.h - the one context object of a mailstage mount, shared by every fs/
 * module: the options, the server, the connection pool, the folder tree,
 * the body caches and the FUSE session.
 *
 * Lifetime: cmd_mount() fills it before mounting and frees it after the
 * session loop ends.  Fields are set once before the loop starts and never
 * reassigned afterwards, so threads may read the pointers without a lock;
 * each module guards its own mutable state.
 */
#ifndef MS_FS_H
#define MS_FS_H

#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>
#include <stdint.h>
#include <sys/types.h>
#include "server.h"

/* Options of `mailstage mount` (-o NAME=VALUE); see docs/mailstage-mount.rst. */
struct mount_cfg {
	char *url;
	char *password_file, *ca_file, *tls, *auth, *authzid, *cache_dir;
	char *cache_max_s, *whole_max_s, *cache_dir_max_s;
	int timeout_s, connect_timeout_s, dir_timeout_s, msg_timeout_s;
	int connections, hide_shared, insecure, debug, size_trust, allow_other;
	int keepalive_s; /* NOOP on idle connections every so often, 0: never */
	unsigned umask;  /* mode bits taken from 0444 (files) and 0555 (directories) */
	uint64_t cache_max, whole_max, cache_dir_max; /* bytes, parsed from the _s strings */
};

struct pool;
struct tree;
struct bodycache;
struct diskcache;
struct quota;
struct refresher;
struct handles;

struct msfs {
	struct mount_cfg cfg;
	struct ms_server srv;
	struct pool *pool;
	struct tree *tree;
	struct bodycache *cache;
	struct diskcache *dcache; /* NULL without -o cache_dir= */
	struct refresher *rf;
	struct quota *quota;       /* GETQUOTAROOT numbers for statfs */
	struct fuse_session *se;
	struct handles *handles;   /* messages read without opens (reader.h) */
	/*
	 * 1: the kernel sends no OPEN or RELEASE (FUSE_CAP_NO_OPEN_SUPPORT),
	 * set by the init callback before any other request is handled.
	 */
	int no_open;
	time_t started; /* wall clock: mtime of directories */
	uid_t uid;
	gid_t gid;
};

/* The FUSE callbacks (ops.c). */
extern const struct fuse_lowlevel_ops msfs_ops;

/* Log one line: to stderr (foreground, the default) or syslog (log.c). */
void msfs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msfs_log_to_syslog(int on);

#endif
