/* msgstore.c - the *_free helpers of the store interfaces; see msgstore.h. */
#include <stdlib.h>
#include "msgstore.h"

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
