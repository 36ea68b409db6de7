/*
 * mount.h - the `mount` subcommand's entry point and its option table.
 */
#ifndef MS_MOUNT_H
#define MS_MOUNT_H

#include "fs.h"

/* `mailstage mount ...` and the implicit form `mailstage URL DIR -o ...`. */
int cmd_mount(int argc, char **argv);

/*
 * Parse and remove our -o options and the URL from args (the mount point
 * and libfuse's own options stay for fuse_parse_cmdline).  Returns -1 to go
 * on, or an exit code: 0 after --help, 2 (EXIT_USAGE) on a bad option.
 */
int mount_parse_options(struct fuse_args *args, struct mount_cfg *cfg);
void mount_free_options(struct mount_cfg *cfg);

#endif
