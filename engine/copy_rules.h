/*
 * copy_rules.h - the copy engine's thin layer over rules.h (copy_rules.c is
 * the only engine file that includes rules.h, whose SU_* names clash with
 * imap.h's).  Reasons are rules.h's enum rule_reason as int: 0 = take.
 */
#ifndef MS_COPY_RULES_H
#define MS_COPY_RULES_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

struct rules;
struct crule_keys;
struct rules_cutoff;
/* A rule reason: 0 = take; names via crule_name(). */
int crule_folder(const struct rules *r, const char *name, unsigned su, int ns, char *why,
		 size_t len);
int crule_message(const struct rules *r, uint64_t size, long long date, char *why, size_t len);
const char *crule_name(int reason);
uint64_t crule_max_size(const struct rules *r);
int crule_cap_active(const struct rules *r);
struct crule_keys *crule_keys_new(void);
enum ms_status crule_keys_add(struct crule_keys *k, long long date, const char *folder,
			      uint32_t uid);
enum ms_status crule_cutoff(const struct rules *r, struct crule_keys *k, struct rules_cutoff **out);
int crule_cap_check(const struct rules_cutoff *c, long long date, const char *folder, uint32_t uid,
		    char *why, size_t len);
void crule_keys_free(struct crule_keys *k);
void crule_cutoff_free(struct rules_cutoff *c);

#endif
