/*
 * commands.h - one entry point per subcommand; each parses its own argv
 * (argv[0] is the subcommand name) and returns an exit code (exitcode.h).
 */
#ifndef MS_COMMANDS_H
#define MS_COMMANDS_H

int cmd_check(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_mount(int argc, char **argv);

#endif
