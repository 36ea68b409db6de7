/*
 * pattern.h - glob patterns over '/'-joined folder names (the syntax is in
 * rules.h: ? * ** [...] \c).
 *
 * A pattern is compiled once into tokens and matched by simulating the
 * automaton with a set of live positions, so matching costs at most
 * (pattern length) x (name length) steps whatever the pattern: no
 * backtracking blow-up on "*a*a*a*a*b".  Names are UTF-8; a byte that is not
 * part of valid UTF-8 counts as one character that only ? * ** and negated
 * sets match.
 *
 * Ownership: pattern_compile() hands back an object freed with
 * pattern_free().  A compiled pattern is read-only; matching from several
 * threads at once is safe.
 */
#ifndef MS_PATTERN_H
#define MS_PATTERN_H

#include <stddef.h>
#include "status.h"

#define PATTERN_MAX_TOKENS 1024

struct pattern;

/* MS_ERR_USAGE with plain words in err for a malformed pattern; MS_ERR_NOMEM. */
enum ms_status pattern_compile(const char *text, struct pattern **out, char *err, size_t errlen);

/* 1 when the whole of name[0..len) matches. */
int pattern_match(const struct pattern *p, const char *name, size_t len);

void pattern_free(struct pattern *p);

#endif
