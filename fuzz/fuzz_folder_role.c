/*
 * fuzz_folder_role.c - libFuzzer target for the folder-role name matcher
 * and the planner.
 *
 * Input: byte 0 picks the separator and the profile, byte 1 the special-use
 * bits of the first folder, the rest is folder names one a line; a line
 * starting with '>' is a destination folder, the others are source folders,
 * and the first line is also tried as a namespace prefix.  Properties: the
 * matcher answers a role in range with a table row exactly when it matched
 * by name; ASCII case does not change the answer; an attribute beats any
 * name; the folded comparison is symmetric; the plan never sends two
 * folders of one role to two destination folders, and creates only names
 * the destination does not have.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "folder_role.h"
#include "fuzz.h"

#define MAX_FOLDERS 64

static void check_name(const char *name, char sep, const char *prefix)
{
	struct role_match m, up;
	char *copy = strdup(name);

	REQUIRE(role_of(name, sep, prefix, 0, &m) < ROLE_COUNT);
	REQUIRE((m.by == ROLE_BY_NAME) == (m.known != NULL));
	REQUIRE(!m.known || m.known->role == m.role);
	REQUIRE(role_of(name, sep, prefix, SU_TRASH, &up) == ROLE_TRASH && up.by == ROLE_BY_ATTR);
	REQUIRE(role_name_cmp(name, name) == 0);
	if (!copy)
		return;
	for (char *p = copy; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	/* a letter as separator would change with the case */
	if (!isalpha((unsigned char)sep))
		REQUIRE(role_of(copy, sep, prefix, 0, &up) == m.role);
	REQUIRE((role_name_cmp(name, copy) > 0) == (role_name_cmp(copy, name) < 0));
	free(copy);
}

static void check_plan(const struct role_plan_in *in, const struct role_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct role_plan_entry *e = &p->e[i];

		for (size_t j = i + 1; j < p->n; j++)
			if (e->role == p->e[j].role && e->dst && p->e[j].dst)
				REQUIRE(!strcmp(e->dst, p->e[j].dst));
		for (size_t d = 0; e->create && d < in->ndst; d++)
			REQUIRE(role_name_cmp(in->dst[d].name, e->dst) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[] = {'/', '.', 0, '\\'};
	struct role_folder src[MAX_FOLDERS], dst[MAX_FOLDERS];
	struct role_plan_in in = {src, 0, dst, 0, ROLE_PROFILE_AUTO, NULL, 0, 0, NULL};
	struct role_plan plan;
	char *text, *line, *next;

	if (size < 2 || !(text = malloc(size - 1)))
		return 0;
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	in.dst_sep = seps[data[0] % 4];
	in.profile = (enum role_profile)(data[0] / 4 % 4);
	for (line = text; line && in.nsrc + in.ndst < MAX_FOLDERS; line = next) {
		struct role_folder *f = *line == '>' ? &dst[in.ndst++] : &src[in.nsrc++];

		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		f->name = *line == '>' ? line + 1 : line;
		check_name(f->name, in.dst_sep, text);
		role_of(f->name, in.dst_sep, "", line == text ? data[1] : 0, &f->m);
	}
	if (role_plan_build(&in, &plan) == MS_OK) {
		check_plan(&in, &plan);
		role_plan_free(&plan);
	}
	free(text);
	return 0;
}
