/*
 * cmd_restore.c - `mailstage restore ARCHIVE DEST`: a copy whose source is a
 * backup (engine/store_archive.h), so it has every copy option and the same
 * state, resume and idempotence: cmd_copy() does the work, told by argv[0]
 * that ARCHIVE must be a backup.  Only the help is restore's own.
 */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "exitcode.h"

static const char usage[] =
	"usage: mailstage restore [OPTIONS] ARCHIVE DEST\n"
	"Put the messages of a backup (made by mailstage backup) back: DEST is an\n"
	"imap[s]://USER@HOST[:PORT]/ URL or a directory (the mount's layout).  Every\n"
	"message keeps its bytes, flags, keywords and INTERNALDATE; run it again and\n"
	"nothing is copied twice (the state is keyed by the messages' SHA-256).\n\n"
	"  --dest-password-file FILE the destination password (else $MAILSTAGE_DEST_PASSWORD)\n"
	"  --state FILE, --no-state, --dedupe, --dry-run, --verify, --map 'OLD=NEW',\n"
	"  --report FILE, --progress=..., -q and the rules options: as for copy\n"
	"                            (see mailstage copy --help)\n\n"
	"The archive is checked before anything is written: a truncated, damaged or\n"
	"foreign archive, or one with unsafe paths, is refused.\n\n"
	"Exit status: 0 every eligible message is at DEST, 1 some failed, 2 usage or a\n"
	"refused archive, 3 cannot connect or log in, 4 interrupted (run again).\n";

int cmd_restore(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return EXIT_DONE;
		}
	return cmd_copy(argc, argv);
}
