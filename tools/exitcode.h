/*
 * exitcode.h - the exit statuses scripts rely on (PRODUCT.md "Names that
 * scripts rely on"; documented in mailstage(1)).  Never renumber.
 */
#ifndef MS_EXITCODE_H
#define MS_EXITCODE_H

enum {
	EXIT_DONE = 0,        /* everything eligible is there (rule/limit skips are reported, not errors) */
	EXIT_PARTIAL = 1,     /* some messages failed: see the report */
	EXIT_USAGE = 2,       /* usage or configuration error: nothing was done */
	EXIT_CONNECT = 3,     /* cannot connect or log in */
	EXIT_INTERRUPTED = 4, /* interrupted: run the same command again to resume */
};

#endif
