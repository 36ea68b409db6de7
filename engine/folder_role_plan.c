/*
 * folder_role_plan.c - where a source's special folders go on a destination
 * (role_plan_build()), and which kind of server the destination is
 * (role_profile_guess()); see folder_role.h.  Pure functions: the caller
 * lists the folders, this only decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "folder_role.h"

#define OTHER_CLIENTS (ROLE_GMAIL | ROLE_THUNDERBIRD | ROLE_APPLE | ROLE_DOVECOT | ROLE_OTHER)

/* Where the folders of one role go: found once, shared by every source folder. */
struct target {
	int done;
	const char *name; /* the destination folder, or NULL */
	char *made;	  /* name when the plan makes it up (owned) */
	int create;
	int attr;     /* found by its special-use attribute */
	char why[96]; /* the destination's half of the reason */
};

struct planner {
	const struct role_plan_in *in;
	struct role_plan *out;
	const char *gmail_top; /* "[Gmail]" or "[Google Mail]" */
	struct target t[ROLE_COUNT];
};

/* "name 'Sent Items' (Exchange, English)" */
static void describe_name(char *buf, size_t len, const char *name, const struct role_known *k)
{
	char who[80];

	role_clients_format(k->clients, who, sizeof(who));
	snprintf(buf, len, "name '%s' (%s%s%s)", name, who, who[0] ? ", " : "",
		 role_lang_name(k->lang));
}

/* ---- the destination's profile and language ---- */

static int has_cap(const char *const *caps, size_t ncaps, const char *cap)
{
	for (size_t i = 0; i < ncaps; i++)
		if (caps[i] && !strcasecmp(caps[i], cap))
			return 1;
	return 0;
}

/* The first destination folder found by a name that only kind creates. */
static const struct role_folder *named_by(const struct role_folder *f, size_t n, int gmail,
					  unsigned only)
{
	for (size_t i = 0; i < n; i++) {
		const struct role_known *k = f[i].m.by == ROLE_BY_NAME ? f[i].m.known : NULL;

		if (k && (gmail ? k->gmail
				: (k->clients & only) && !(k->clients & ~only & OTHER_CLIENTS)))
			return &f[i];
	}
	return NULL;
}

enum role_profile role_profile_guess(const char *greeting, const char *const *caps, size_t ncaps,
				     const struct role_folder *dst, size_t ndst, char *why,
				     size_t whylen)
{
	const struct role_folder *f;

	if (!why)
		whylen = 0; /* snprintf(NULL, 0, ...) writes nothing */
	if (has_cap(caps, ncaps, "X-GM-EXT-1")) {
		snprintf(why, whylen, "capability X-GM-EXT-1");
		return ROLE_PROFILE_GMAIL;
	}
	if (greeting && strcasestr(greeting, "Microsoft Exchange")) {
		snprintf(why, whylen, "greeting names Microsoft Exchange");
		return ROLE_PROFILE_EXCHANGE;
	}
	if (greeting && strcasestr(greeting, "Dovecot")) {
		snprintf(why, whylen, "greeting names Dovecot");
		return ROLE_PROFILE_DOVECOT;
	}
	if ((f = named_by(dst, ndst, 1, 0))) {
		snprintf(why, whylen, "folder '%s' is Gmail's", f->name);
		return ROLE_PROFILE_GMAIL;
	}
	if ((f = named_by(dst, ndst, 0, ROLE_OUTLOOK))) {
		snprintf(why, whylen, "folder '%s' is named as Exchange names it", f->name);
		return ROLE_PROFILE_EXCHANGE;
	}
	snprintf(why, whylen, "no sign of Gmail or Exchange");
	return ROLE_PROFILE_DOVECOT;
}

/* Votes of one folder name for the languages of every row that has it. */
static void vote(const struct role_known *k, const char **langs, unsigned *votes, size_t *nl)
{
	for (size_t i = 0; i < role_known_count; i++) {
		const struct role_known *r = &role_known_names[i];
		size_t j;

		if (r->gmail != k->gmail || role_name_cmp(r->name, k->name))
			continue;
		for (j = 0; j < *nl && strcmp(langs[j], r->lang); j++)
			;
		if (j == *nl && *nl < ROLE_COUNT * 4)
			langs[(*nl)++] = r->lang;
		if (j < *nl)
			votes[j]++;
	}
}

/* The language most of the destination's role folders are named in; ties: English. */
static const char *dst_language(const struct role_plan_in *in)
{
	const char *langs[ROLE_COUNT * 4] = {"en"}, *best = "en";
	unsigned votes[ROLE_COUNT * 4] = {0}, most;
	size_t nl = 1;

	for (size_t i = 0; i < in->ndst; i++)
		if (in->dst[i].m.by == ROLE_BY_NAME)
			vote(in->dst[i].m.known, langs, votes, &nl);
	most = votes[0];
	for (size_t j = 1; j < nl; j++) {
		if (votes[j] > most) {
			most = votes[j];
			best = langs[j];
		}
	}
	return best;
}

static const char *gmail_top(const struct role_plan_in *in)
{
	const char *p;
	size_t n = in->dst_prefix ? strlen(in->dst_prefix) : 0;

	for (size_t i = 0; i < in->ndst; i++) {
		p = in->dst[i].name;
		if (n && !strncmp(p, in->dst_prefix, n))
			p += n;
		if (!strncmp(p, "[Google Mail]", 13) && (!p[13] || p[13] == in->dst_sep))
			return "[Google Mail]";
	}
	return "[Gmail]";
}

/* ---- the destination folder of a role ---- */

/* With the attribute first, else the one whose name comes first in the table. */
static const struct role_folder *best_dst(const struct role_plan_in *in, enum role r)
{
	const struct role_folder *best = NULL;

	for (size_t i = 0; i < in->ndst; i++) {
		const struct role_folder *d = &in->dst[i];

		if (d->m.role != r)
			continue;
		if (d->m.by == ROLE_BY_ATTR)
			return d;
		if (!best || (d->m.known && best->m.known && d->m.known < best->m.known))
			best = d;
	}
	return best;
}

static const struct role_folder *dst_named(const struct role_plan_in *in, const char *name)
{
	for (size_t i = 0; i < in->ndst; i++)
		if (!role_name_cmp(in->dst[i].name, name))
			return &in->dst[i];
	return NULL;
}

/* The profile's name for r, made into a full destination name. */
static enum ms_status make_default(struct planner *pl, enum role r, struct target *t)
{
	const struct role_plan_in *in = pl->in;
	const char *lvl = role_default_name(pl->out->profile, r, pl->out->lang);
	const char *pre = in->dst_prefix ? in->dst_prefix : "";
	int n;

	if (!lvl)
		return MS_OK;
	if (pl->out->profile == ROLE_PROFILE_GMAIL)
		n = asprintf(&t->made, "%s%s%c%s", pre, pl->gmail_top,
			     in->dst_sep ? in->dst_sep : '/', lvl);
	else
		n = asprintf(&t->made, "%s%s", pre, lvl);
	if (n < 0) {
		t->made = NULL;
		return MS_ERR_NOMEM;
	}
	return MS_OK;
}

static enum ms_status find_target(struct planner *pl, enum role r, struct target *t)
{
	const struct role_folder *d = best_dst(pl->in, r);
	const char *prof = role_profile_name(pl->out->profile);
	enum ms_status st;

	t->done = 1;
	if (d) {
		t->name = d->name;
		t->attr = d->m.by == ROLE_BY_ATTR;
		if (t->attr)
			snprintf(t->why, sizeof(t->why), "attribute %s",
				 role_su_attr(role_su_bit(r)));
		else
			describe_name(t->why, sizeof(t->why), d->name, d->m.known);
		return MS_OK;
	}
	if ((st = make_default(pl, r, t)))
		return st;
	if (!t->made) {
		snprintf(t->why, sizeof(t->why), "no %s folder there, and profile %s makes none",
			 role_name(r), prof);
		return MS_OK;
	}
	d = dst_named(pl->in, t->made);
	if (d && d->m.role != ROLE_NONE) {
		snprintf(t->why, sizeof(t->why), "default name '%s' is its %s folder", t->made,
			 role_name(d->m.role));
		free(t->made);
		t->made = NULL;
		return MS_OK;
	}
	t->name = d ? d->name : t->made;
	t->create = !d;
	snprintf(t->why, sizeof(t->why), "default name for profile %s%s%s", prof,
		 strcmp(pl->out->lang, "en") ? ", " : "",
		 strcmp(pl->out->lang, "en") ? role_lang_name(pl->out->lang) : "");
	return MS_OK;
}

/* ---- the plan ---- */

static const struct role_map *map_of(const struct role_plan_in *in, const char *name)
{
	for (size_t i = 0; i < in->nmaps; i++)
		if (!strcmp(in->maps[i].from, name))
			return &in->maps[i];
	return NULL;
}

/* The source's half of the reason: "attribute \Sent", "name 'Sent' (...)". */
static void describe_src(char *buf, size_t len, const struct role_folder *s)
{
	if (s->m.by == ROLE_BY_NAME)
		describe_name(buf, len, s->name, s->m.known);
	else
		snprintf(buf, len, "attribute %s", role_su_attr(role_su_bit(s->m.role)));
}

static enum ms_status plan_role(struct planner *pl, const struct role_folder *s,
				struct role_plan_entry *e)
{
	struct target *t = &pl->t[s->m.role];
	char src[96];
	enum ms_status st;

	if (!t->done && (st = find_target(pl, s->m.role, t)))
		return st;
	describe_src(src, sizeof(src), s);
	if (s->m.by == ROLE_BY_ATTR && t->attr)
		snprintf(e->why, sizeof(e->why), "%s on both", src);
	else
		snprintf(e->why, sizeof(e->why), "%s; to %s", src, t->why);
	e->create = t->create;
	return t->name && !(e->dst = strdup(t->name)) ? MS_ERR_NOMEM : MS_OK;
}

static enum ms_status plan_one(struct planner *pl, const struct role_folder *s,
			       struct role_plan_entry *e)
{
	const struct role_map *map = map_of(pl->in, s->name);

	e->src = s->name;
	e->role = s->m.role;
	if (map) {
		snprintf(e->why, sizeof(e->why), "--map");
		e->create = !dst_named(pl->in, map->to);
		return (e->dst = strdup(map->to)) ? MS_OK : MS_ERR_NOMEM;
	}
	if (s->m.role == ROLE_INBOX) {
		snprintf(e->why, sizeof(e->why), "INBOX");
		return (e->dst = strdup("INBOX")) ? MS_OK : MS_ERR_NOMEM;
	}
	return plan_role(pl, s, e);
}

enum ms_status role_plan_build(const struct role_plan_in *in, struct role_plan *out)
{
	struct planner pl = {in, out, NULL, {{0}}};
	enum ms_status st = MS_OK;

	memset(out, 0, sizeof(*out));
	out->profile = in->profile != ROLE_PROFILE_AUTO
			   ? in->profile
			   : role_profile_guess(NULL, NULL, 0, in->dst, in->ndst, NULL, 0);
	out->lang = dst_language(in);
	pl.gmail_top = gmail_top(in);
	out->e = calloc(in->nsrc ? in->nsrc : 1, sizeof(*out->e));
	if (!out->e)
		return MS_ERR_NOMEM;
	for (size_t i = 0; i < in->nsrc && !st; i++) {
		if (in->src[i].m.role == ROLE_NONE && !map_of(in, in->src[i].name))
			continue;
		st = plan_one(&pl, &in->src[i], &out->e[out->n]);
		out->n++;
	}
	for (int r = 0; r < ROLE_COUNT; r++)
		free(pl.t[r].made);
	if (st)
		role_plan_free(out);
	return st;
}

void role_plan_free(struct role_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->e[i].dst);
	free(p->e);
	p->e = NULL;
	p->n = 0;
}

const struct role_plan_entry *role_plan_find(const struct role_plan *p, const char *src)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->e[i].src, src))
			return &p->e[i];
	return NULL;
}
