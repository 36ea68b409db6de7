/*
 * unit.h - the smallest test helper that does the job: CHECK() records a
 * failure with file and line and goes on, so one run shows every broken
 * case; unit_done() prints "N passed, N failed" and gives the exit status
 * meson's test() expects (0 pass, 1 fail).
 */
#ifndef MS_UNIT_H
#define MS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_pass, unit_fail;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (cond) {                                                            \
			unit_pass++;                                                   \
		} else {                                                               \
			unit_fail++;                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                \
		}                                                                      \
	} while (0)

#define CHECK_STR(got, want)                                                           \
	do {                                                                           \
		const char *g_ = (got), *w_ = (want);                                  \
		if (g_ && w_ && strcmp(g_, w_) == 0) {                                 \
			unit_pass++;                                                   \
		} else {                                                               \
			unit_fail++;                                                   \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__,    \
				__LINE__, g_ ? g_ : "(null)", w_ ? w_ : "(null)");     \
		}                                                                      \
	} while (0)

static inline int unit_done(void)
{
	printf("%d passed, %d failed\n", unit_pass, unit_fail);
	return unit_fail ? 1 : 0;
}

#endif
