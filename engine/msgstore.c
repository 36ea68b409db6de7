/* msgstore.c - the *_free helpers of the store interfaces; see msgstore.h. */
#include <stdlib.h>
#include <string.h>
#include "msgstore.h"

static int folder_cmp(const void *a, const void *b)
{
	const struct store_folder *x = a, *y = b;
	int xi = !strcmp(x->name, "INBOX"), yi = !strcmp(y->name, "INBOX");

	if (xi != yi)
		return yi - xi;
	return strcmp(x->name, y->name);
}

void store_folders_sort(struct store_folder *f, size_t n)
{
	if (n)
		qsort(f, n, sizeof(*f), folder_cmp);
}

void store_folders_free(struct store_folder *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		free(f[i].name);
		free(f[i].id);
	}
	free(f);
}

void store_msgs_free(struct store_msg *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].key);
		free(m[i].flags);
		free(m[i].bad_flags);
		free(m[i].message_id);
	}
	free(m);
}

void store_results_clear(struct store_result *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].dest_key);
		r[i].dest_key = NULL;
	}
}
