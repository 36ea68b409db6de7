/*
 * secret.h - passwords and tokens in memory, in files and in the
 * environment.
 *
 * Memory.  A secret lives in a buffer from secret_alloc() or
 * secret_strdup(): it remembers its size, and secret_free() overwrites
 * every byte of it (explicit_bzero, which the compiler may not drop) before
 * handing it back.  struct ms_server's password and token and the SMTP
 * password are such buffers; nothing else holds a secret for long.
 * secret_curl_global_init() extends the wiping to every block libcurl
 * frees (its copies of CURLOPT_PASSWORD and XOAUTH2 tokens, the SASL
 * messages it builds from them).
 *
 * Files.  secret_read_file() reads the first line of a password or token
 * file with read(2) into a secret buffer: no stdio buffer and no getline()
 * growth leaves a copy of the file on the heap.  Like the batch CSV, such a
 * file draws a warning when other users can read it or it belongs to
 * another user (secret_file_warning(), the one check both use).
 *
 * Environment.  secret_env_scrub() moves every MAILSTAGE_*PASSWORD*
 * variable out of the environment into secret memory, then overwrites the
 * bytes the variable occupied: the kernel shows a process's initial
 * environment block in /proc/PID/environ for as long as it runs, and
 * unsetenv() alone leaves that block as it was.  secret_env() then answers
 * from the moved copies.
 *
 * Thread-safety: secret_env_scrub() and secret_curl_global_init() before
 * any thread starts (first thing in main()); the rest is thread-safe.
 */
#ifndef MS_SECRET_H
#define MS_SECRET_H

#include <stddef.h>
#include <sys/stat.h>
#include "status.h"

/* Longest secret accepted from a file, a terminal or a command, in bytes. */
#define SECRET_MAX 8192

/* n zeroed bytes plus a NUL after them; NULL when out of memory. */
char *secret_alloc(size_t n);
/* A secret copy of s; NULL when out of memory. */
char *secret_strdup(const char *s);
/* Wipe and free a buffer from secret_alloc()/secret_strdup(); NULL is fine. */
void secret_free(char *s);

/*
 * The first line of fd (CR and LF dropped, at most SECRET_MAX bytes) into a
 * new secret buffer; whatever was read past the line is wiped.  Gives up
 * after timeout_ms in all (-1: no limit).  MS_ERR_IO on a read error or
 * when nothing at all was read, MS_ERR_USAGE when the line is too long,
 * MS_ERR_TIMEOUT, MS_ERR_NOMEM.  An empty first line is MS_OK with "".
 */
enum ms_status secret_read_line(int fd, int timeout_ms, char **out);

/*
 * The warning for a regular file holding `what` ("passwords", "a password",
 * "an OAuth2 token") that other users can read or change, or that belongs to
 * another user than the effective one (who can swap the secret for theirs).
 * Returns 1 with the words in out ("PATH can be read by other users (mode
 * 0644) but holds passwords: chmod 600 it"), 0 when there is nothing to say
 * (also for a pipe or a terminal: nobody else holds those).
 */
int secret_file_warning(const struct stat *sb, const char *path, const char *what, char *out,
			size_t len);

/*
 * The first line of path as a secret (*out); err says why not (never the
 * content), warn gets secret_file_warning()'s words or "".  MS_ERR_USAGE
 * when the file cannot be opened, is empty or its line is too long.
 */
enum ms_status secret_read_file(const char *path, const char *what, char **out, char *warn,
				size_t warnlen, char *err, size_t errlen);

/* Is the environment entry "NAME=value" one of ours that holds a secret? */
int secret_env_entry(const char *entry);

/* Move MAILSTAGE_*PASSWORD* out of the environment (see above).  -1 when out of memory. */
int secret_env_scrub(void);

/* A variable moved by secret_env_scrub(), else getenv(name); NULL when unset. */
const char *secret_env(const char *name);

/*
 * No core dump of this process (it holds passwords): RLIMIT_CORE 0, and not
 * dumpable, which also stops a core pipe (core_pattern "|...") that ignores
 * the limit, and keeps other users' debuggers and /proc/PID/environ and
 * /proc/PID/mem readers out.  -1 with errno when the kernel refused.
 */
int secret_no_core_dumps(void);

/*
 * curl_global_init(flags) with allocation callbacks that wipe every block
 * before freeing it (and every block realloc moves away from).  Returns the
 * CURLcode as an int (0 = fine).
 */
int secret_curl_global_init(long flags);

#endif
