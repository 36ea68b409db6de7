/*
 * mount.c - `mailstage mount URL MOUNTPOINT [-o OPTS] [-f]`: options, login
 * before mounting, the folder tree, the FUSE session and its loop.
 *
 *   $ MAILSTAGE_PASSWORD=... mailstage mount imap://alice@127.0.0.1:10143/ /mnt/alice \
 *         -o tls=none,timeout=10
 *   $ ls /mnt/alice/INBOX/cur | head -1
 *   1700000000.U1V1699999999.mailstage:2,S
 *   $ fusermount3 -u /mnt/alice
 *
 * Startup order (notes/fuse-view.md section 9): parse options -> connect and
 * log in (a bad password exits 3 and mounts nothing) -> LIST -> mount ->
 * daemonize (unless -f) -> threads -> loop.  Threads start only after
 * daemonizing, because fork() keeps only the calling thread.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bodycache.h"
#include "cli.h"
#include "diskcache.h"
#include "exitcode.h"
#include "fs.h"
#include "listing.h"
#include "mount.h"
#include "pool.h"
#include "reader.h"
#include "quota.h"
#include "refresh.h"
#include "tree.h"

static int startup(struct msfs *fs, struct fuse_args *args, const char *mnt, int foreground)
{
	struct fuse_loop_config *lc = NULL;
	int rc = EXIT_USAGE;

	fs->se = fuse_session_new(args, &msfs_ops, sizeof(msfs_ops), fs);
	if (!fs->se)
		return EXIT_USAGE;
	if (fuse_set_signal_handlers(fs->se))
		goto out_session;
	if (fuse_session_mount(fs->se, mnt)) {
		fprintf(stderr, "mailstage mount: cannot mount on %s\n", mnt);
		goto out_signals;
	}
	if (fuse_daemonize(foreground))
		goto out_unmount;
	msfs_log_to_syslog(!foreground);
	if (refresher_start(fs, &fs->rf) || pool_keepalive_start(fs->pool, fs->cfg.keepalive_s) ||
	    !(lc = fuse_loop_cfg_create()))
		goto out_unmount;
	fuse_loop_cfg_set_max_threads(lc, 16);
	fuse_loop_cfg_set_clone_fd(lc, 0);
	rc = fuse_session_loop_mt(fs->se, lc) ? EXIT_PARTIAL : EXIT_DONE;
	fuse_loop_cfg_destroy(lc);
out_unmount:
	refresher_stop(fs->rf);
	fs->rf = NULL;
	fuse_session_unmount(fs->se);
out_signals:
	fuse_remove_signal_handlers(fs->se);
out_session:
	fuse_session_destroy(fs->se);
	return rc;
}

/* Log in, LIST, build the tree and the pool; the login session joins the pool. */
static int connect_and_list(struct msfs *fs)
{
	struct imap_namespaces ns = { 0 };
	struct imap_folder *f = NULL;
	struct imap *im = NULL;
	size_t n = 0;
	char err[640];
	enum ms_status st;

	st = imap_connect(&fs->srv, &im, err, sizeof(err));
	if (st)
		return cli_error("mount", cli_exit_for_connect(st), "%s", err);
	st = imap_namespace(im, &ns);
	if (!st)
		st = imap_list(im, &ns, 1, &f, &n);
	if (st) {
		cli_error("mount", EXIT_CONNECT, "listing folders failed: %s", imap_errmsg(im));
		imap_close(im);
		imap_namespaces_free(&ns);
		return EXIT_CONNECT;
	}
	st = tree_build(f, n, fs->cfg.hide_shared, &fs->tree);
	if (!st && !(fs->quota = quota_new()))
		st = MS_ERR_NOMEM;
	if (!st)
		quota_load(fs->quota, im);
	imap_folders_free(f, n);
	imap_namespaces_free(&ns);
	if (!st)
		st = pool_new(&fs->srv, fs->cfg.connections, fs->cfg.timeout_s * 1000, im, &fs->pool);
	if (st) {
		imap_close(im);
		return cli_error("mount", EXIT_USAGE, "%s", ms_status_name(st));
	}
	return 0;
}

static int server_setup(struct msfs *fs)
{
	struct cli_server cs = {
		.tls = fs->cfg.tls, .ca_file = fs->cfg.ca_file, .auth = fs->cfg.auth,
		.authzid = fs->cfg.authzid,
		.password_file = fs->cfg.password_file, .insecure = fs->cfg.insecure,
		.timeout_s = fs->cfg.timeout_s, .connect_timeout_s = fs->cfg.connect_timeout_s,
		.debug = fs->cfg.debug,
	};

	return cli_server_setup(&fs->srv, fs->cfg.url, &cs, "MAILSTAGE_PASSWORD");
}

/* The on-disk cache, keyed by who we are on which server (never the password). */
static int open_diskcache(struct msfs *fs)
{
	char id[1024], err[PATH_MAX * 2 + 200];

	if (!fs->cfg.cache_dir)
		return 0;
	snprintf(id, sizeof(id), "%s:%d\n%s\n%s", fs->srv.host, fs->srv.port, fs->srv.user,
		 fs->cfg.authzid ? fs->cfg.authzid : "");
	if (diskcache_open(fs->cfg.cache_dir, id, fs->cfg.cache_dir_max, &fs->dcache, err,
			   sizeof(err)))
		return cli_error("mount", EXIT_USAGE, "cache_dir=%s: %s", fs->cfg.cache_dir, err);
	return 0;
}

/* "-oro,...,fsname=imap://alice@host:143" with commas in the name escaped. */
static int add_mount_opts(struct msfs *fs, struct fuse_args *args)
{
	char opt[1024];
	size_t n = (size_t)snprintf(opt, sizeof(opt),
				    "-oro,default_permissions,noatime,subtype=mailstage,fsname=");
	char label[512];

	snprintf(label, sizeof(label), "%s://%s@%s:%d", fs->srv.implicit_tls ? "imaps" : "imap",
		 fs->srv.user, fs->srv.host, fs->srv.port);
	for (const char *p = label; *p && n + 3 < sizeof(opt); p++) {
		if (*p == ',' || *p == '\\')
			opt[n++] = '\\';
		opt[n++] = *p;
	}
	opt[n] = 0;
	return fuse_opt_add_arg(args, opt);
}

int cmd_mount(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts fo = { 0 };
	struct msfs fs = { 0 };
	int rc;

	/*
	 * Bodies of 1 to 4 MiB (whole_max) come and go as the body cache
	 * turns over; from the heap, their freed space stays in the process
	 * (reading 10,000 messages with cache_max=64M peaked at ~115 MB
	 * instead of ~93 MB).  Mapped, each is given back when freed.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	rc = mount_parse_options(&args, &fs.cfg);
	if (rc >= 0)
		goto out_args;
	rc = EXIT_USAGE;
	if (fuse_parse_cmdline(&args, &fo) || !fo.mountpoint) {
		cli_error("mount", EXIT_USAGE, "give an imap[s]:// URL and a mount point (see --help)");
		goto out_args;
	}
	if ((rc = server_setup(&fs)))
		goto out_args;
	fs.uid = getuid();
	fs.gid = getgid();
	fs.started = time(NULL);
	if ((rc = add_mount_opts(&fs, &args) ? EXIT_USAGE : 0) || (rc = open_diskcache(&fs)) ||
	    (rc = connect_and_list(&fs)))
		goto out_server;
	fs.cache = bodycache_new(fs.cfg.cache_max);
	fs.handles = handles_new();
	rc = fs.cache && fs.handles ? startup(&fs, &args, fo.mountpoint, fo.foreground) : EXIT_USAGE;
	handles_free(fs.handles);
	pool_free(fs.pool);
	bodycache_free(fs.cache);
	listing_drop_all(fs.tree);
	tree_free(fs.tree);
out_server:
	quota_free(fs.quota);
	diskcache_free(fs.dcache);
	fs.dcache = NULL;
	server_free(&fs.srv);
out_args:
	free(fo.mountpoint);
	mount_free_options(&fs.cfg);
	fuse_opt_free_args(&args);
	return rc;
}
