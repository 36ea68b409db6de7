/*
 * log.c - the mount's one log line function: stderr in the foreground
 * (-f, tests), syslog once daemonized.  Thread-safe (stdio and syslog lock).
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include "fs.h"

static int to_syslog;

void msfs_log_to_syslog(int on)
{
	to_syslog = on;
	if (on)
		openlog("mailstage", LOG_PID, LOG_DAEMON);
}

void msfs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (to_syslog) {
		vsyslog(LOG_NOTICE, fmt, ap);
	} else {
		flockfile(stderr);
		fprintf(stderr, "mailstage: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	va_end(ap);
}
