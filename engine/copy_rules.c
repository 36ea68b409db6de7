/*
 * copy_rules.c - the copy engine's view of rules.h.  Kept apart because
 * rules.h and imap.h both define the SU_* bits (with the same values): this
 * file includes only rules.h, the engine only copy_int.h.
 */
#include <stdlib.h>
#include <string.h>
#include "copy_rules.h"
#include "rules.h"

int crule_folder(const struct rules *r, const char *name, unsigned su, int ns, char *why,
		 size_t len)
{
	struct rules_folder f = { name, su, ns };

	return (int)rules_folder(r, &f, why, len);
}

int crule_message(const struct rules *r, uint64_t size, long long date, char *why, size_t len)
{
	return (int)rules_message(r, size, date, why, len);
}

const char *crule_name(int reason)
{
	return rules_reason_name((enum rule_reason)reason);
}

uint64_t crule_max_size(const struct rules *r)
{
	return rules_max_size(r);
}

int crule_cap_active(const struct rules *r)
{
	return rules_item_cap(r) != 0;
}

struct crule_keys {
	struct rules_msgkey *k;
	size_t n, cap;
};

struct crule_keys *crule_keys_new(void)
{
	return calloc(1, sizeof(struct crule_keys));
}

/* folder must outlive the keys (it points into the run's folder list). */
enum ms_status crule_keys_add(struct crule_keys *k, long long date, const char *folder,
			      uint32_t uid)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 1024;
		struct rules_msgkey *nk = realloc(k->k, cap * sizeof(*nk));
		if (!nk)
			return MS_ERR_NOMEM;
		k->k = nk;
		k->cap = cap;
	}
	k->k[k->n++] = (struct rules_msgkey){ date, folder, uid };
	return MS_OK;
}

enum ms_status crule_cutoff(const struct rules *r, struct crule_keys *k, struct rules_cutoff **out)
{
	struct rules_cutoff *c = calloc(1, sizeof(*c));
	enum ms_status st;

	*out = NULL;
	if (!c)
		return MS_ERR_NOMEM;
	st = rules_item_cap_cutoff(r, k->k, k->n, c);
	if (st) {
		free(c);
		return st;
	}
	*out = c;
	return MS_OK;
}

int crule_cap_check(const struct rules_cutoff *c, long long date, const char *folder, uint32_t uid,
		    char *why, size_t len)
{
	struct rules_msgkey k = { date, folder, uid };

	if (!c)
		return 0;
	return (int)rules_item_cap_check(c, &k, why, len);
}

void crule_keys_free(struct crule_keys *k)
{
	if (!k)
		return;
	free(k->k);
	free(k);
}

void crule_cutoff_free(struct rules_cutoff *c)
{
	if (!c)
		return;
	rules_cutoff_free(c);
	free(c);
}
