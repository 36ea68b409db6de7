/*
 * log.c - the mount's one log line function: stderr in the foreground
 * (-f, tests), syslog once daemonized.  Thread-safe (one stdio call, or syslog).
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include "fs.h"
#include "termtext.h"

static int to_syslog;

void msfs_log_to_syslog(int on)
{
	to_syslog = on;
	if (on)
		openlog("mailstage", LOG_PID, LOG_DAEMON);
}

/* Lines name folders and carry the server's words: escaped (termtext.h). */
void msfs_log(const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	va_start(ap, fmt);
	termtext_vfmt(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (to_syslog)
		syslog(LOG_NOTICE, "%s", line);
	else
		fprintf(stderr, "mailstage: %s\n", line);
}
