/*
 * options.c - the -o option table of `mailstage mount` (one fuse_opt table
 * with offsetof into struct mount_cfg, as sshfs does) and fstab noise.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exitcode.h"
#include "mount.h"

enum { KEY_DISCARD, KEY_HELP, KEY_VERSION };

#define OPT(t, f, v) { t, offsetof(struct mount_cfg, f), v }

static const struct fuse_opt mount_opts[] = {
	OPT("timeout=%d", timeout_s, 0),
	OPT("connect_timeout=%d", connect_timeout_s, 0),
	OPT("dir_timeout=%d", dir_timeout_s, 0),
	OPT("msg_timeout=%d", msg_timeout_s, 0),
	OPT("connections=%d", connections, 0),
	OPT("cache_max=%s", cache_max_s, 0),
	OPT("whole_max=%s", whole_max_s, 0),
	OPT("cache_dir=%s", cache_dir, 0),
	OPT("cache_dir_max=%s", cache_dir_max_s, 0),
	OPT("keepalive=%d", keepalive_s, 0),
	OPT("umask=%o", umask, 0),
	OPT("hide_shared", hide_shared, 1),
	OPT("password_file=%s", password_file, 0),
	OPT("ca_file=%s", ca_file, 0),
	OPT("tls=%s", tls, 0),
	OPT("auth=%s", auth, 0),
	OPT("authzid=%s", authzid, 0),
	OPT("insecure", insecure, 1),
	OPT("imap_debug", debug, 1),
	OPT("size=trust", size_trust, 1),
	OPT("size=verify", size_trust, 0),
	/* fstab and mount(8) noise */
	FUSE_OPT_KEY("_netdev", KEY_DISCARD),
	FUSE_OPT_KEY("noauto", KEY_DISCARD),
	FUSE_OPT_KEY("auto", KEY_DISCARD),
	FUSE_OPT_KEY("user", KEY_DISCARD),
	FUSE_OPT_KEY("users", KEY_DISCARD),
	FUSE_OPT_KEY("nofail", KEY_DISCARD),
	FUSE_OPT_KEY("defaults", KEY_DISCARD),
	FUSE_OPT_KEY("rw", KEY_DISCARD),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_END
};

static const char usage[] =
	"usage: mailstage mount imap[s]://USER@HOST[:PORT]/ MOUNTPOINT [-f] [-o OPT,...]\n"
	"Mount an IMAP account read-only as a Maildir-like tree.\n\n"
	"Options (-o):\n"
	"  password_file=FILE   password from FILE (else $MAILSTAGE_PASSWORD, else a prompt)\n"
	"  tls=ssl|starttls|none  ca_file=PEM  insecure  auth=plain|login|ntlm\n"
	"  authzid=USER         SASL PLAIN authorization identity: the URL's user is an\n"
	"                       admin acting as USER (Cyrus admins, authzid-style servers)\n"
	"  timeout=S            per-command deadline, then EIO (default 30)\n"
	"  connect_timeout=S    connect and login deadline (default 10)\n"
	"  dir_timeout=S        new mail and flag changes show within about this (default 10)\n"
	"  msg_timeout=S        kernel cache time of message entries (default 3600)\n"
	"  connections=N        IMAP connections, 1 for listings + N-1 for bodies (default 4)\n"
	"  cache_max=BYTES      memory for whole cached messages (default 256M)\n"
	"  whole_max=BYTES      messages up to this are fetched whole (default 4M)\n"
	"  cache_dir=DIR        keep whole messages on disk too (reused by later mounts)\n"
	"  cache_dir_max=BYTES  bound of cache_dir, least recently used out (default 1G)\n"
	"  keepalive=S          NOOP on idle connections every S seconds, 0: off (default 120)\n"
	"  size=verify|trust    check RFC822.SIZE on open (default verify)\n"
	"  hide_shared          leave out shared and other users' folders\n"
	"  imap_debug           log the IMAP conversation (with -f)\n"
	"  umask=MASK           mode bits to clear (octal, default 077: files 0400 and\n"
	"                       directories 0500; 022 gives 0444 and 0555)\n"
	"  allow_other          let other users in (needs user_allow_other); with umask=\n"
	"                       to let them read\n"
	"  _netdev,noauto,user,users,auto,nofail  accepted for fstab\n"
	"  -f                   stay in the foreground\n";

static int proc(void *data, const char *arg, int key, struct fuse_args *out)
{
	struct mount_cfg *cfg = data;

	switch (key) {
	case KEY_DISCARD:
		return 0;
	case KEY_HELP:
		fputs(usage, stdout);
		cfg->connections = -1; /* flag: help shown */
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (cfg->url)
			return 1; /* the mount point, for fuse_parse_cmdline */
		cfg->url = strdup(arg);
		return cfg->url ? 0 : -1;
	}
	return 1;
}

/* "256M", "1G", "65536" -> bytes; -1 on garbage. */
static int parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s)
		return 0;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static void set_defaults(struct mount_cfg *c)
{
	c->timeout_s = 30;
	c->connect_timeout_s = 10;
	c->dir_timeout_s = 10;
	c->msg_timeout_s = 3600;
	c->connections = 4;
	c->cache_max = 256ull << 20;
	c->whole_max = 4ull << 20;
	c->cache_dir_max = 1ull << 30;
	c->keepalive_s = 120;
	c->umask = 077; /* the mail is the mounting user's alone unless umask= widens it */
}

static const char *check(struct mount_cfg *c)
{
	if (!c->url || (strncmp(c->url, "imap://", 7) && strncmp(c->url, "imaps://", 8)))
		return "the first argument must be an imap:// or imaps:// URL";
	if (parse_bytes(c->cache_max_s, &c->cache_max) || parse_bytes(c->whole_max_s, &c->whole_max) ||
	    parse_bytes(c->cache_dir_max_s, &c->cache_dir_max))
		return "cache_max=, whole_max= and cache_dir_max= take a byte count such as 65536, 512K, 256M";
	if (c->connections < 1 || c->connections > 10)
		return "connections= must be 1 to 10";
	if (c->timeout_s < 1 || c->connect_timeout_s < 1 || c->dir_timeout_s < 1 || c->msg_timeout_s < 1)
		return "timeouts must be at least 1 second";
	if (c->cache_dir && !*c->cache_dir)
		return "cache_dir= needs a directory";
	if (c->keepalive_s < 0)
		return "keepalive= must be 0 (off) or a number of seconds";
	if (c->umask > 0777)
		return "umask= takes an octal mask from 000 to 777, such as 022";
	return NULL;
}

int mount_parse_options(struct fuse_args *args, struct mount_cfg *cfg)
{
	const char *why;

	set_defaults(cfg);
	if (fuse_opt_parse(args, cfg, mount_opts, proc))
		return EXIT_USAGE;
	if (cfg->connections == -1)
		return EXIT_DONE;
	why = check(cfg);
	if (why) {
		fprintf(stderr, "mailstage mount: %s\n", why);
		return EXIT_USAGE;
	}
	return -1;
}

void mount_free_options(struct mount_cfg *c)
{
	char **s[] = { &c->url, &c->password_file, &c->ca_file, &c->tls, &c->auth,
		       &c->authzid, &c->cache_dir, &c->cache_max_s, &c->whole_max_s,
		       &c->cache_dir_max_s };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}
