/*
 * test_folder_role.c - folder roles: attributes, the table of names in each
 * language, case and prefix variants, and the plans for the destinations of
 * issue #17 (Exchange-like, German Exchange, French), with the rule that a
 * destination never gets two folders of one role.
 *
 *   $ build/tests/test_folder_role
 *   N passed, 0 failed
 */
#include <stdlib.h>
#include "folder_role.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Names as servers list them, written here by hand (not read back from the table). */
static const struct {
	const char *name;
	enum role role;
} names[] = {
    /* English */
    {"Sent", ROLE_SENT},
    {"Sent Items", ROLE_SENT},
    {"Sent Messages", ROLE_SENT},
    {"Sent Mail", ROLE_SENT},
    {"[Gmail]/Sent Mail", ROLE_SENT},
    {"Deleted Items", ROLE_TRASH},
    {"Deleted Messages", ROLE_TRASH},
    {"Trash", ROLE_TRASH},
    {"Bin", ROLE_TRASH},
    {"[Google Mail]/Bin", ROLE_TRASH},
    {"Junk", ROLE_JUNK},
    {"Junk Email", ROLE_JUNK},
    {"Junk E-Mail", ROLE_JUNK},
    {"Spam", ROLE_JUNK},
    {"Bulk Mail", ROLE_JUNK},
    {"Drafts", ROLE_DRAFTS},
    {"Archive", ROLE_ARCHIVE},
    {"Archives", ROLE_ARCHIVE},
    {"All Mail", ROLE_ALL},
    {"[Gmail]/All Mail", ROLE_ALL},
    {"[Gmail]/Starred", ROLE_FLAGGED},
    {"[Gmail]/Important", ROLE_IMPORTANT},
    {"[Gmail]/Spam", ROLE_JUNK},
    {"[Gmail]/Drafts", ROLE_DRAFTS},
    {"[Gmail]/Trash", ROLE_TRASH},
    /* German */
    {"Gesendete Elemente", ROLE_SENT},
    {"Gesendet", ROLE_SENT},
    {"Gelöschte Elemente", ROLE_TRASH},
    {"Gelöschte Objekte", ROLE_TRASH},
    {"Papierkorb", ROLE_TRASH},
    {"Junk-E-Mail", ROLE_JUNK},
    {"Entwürfe", ROLE_DRAFTS},
    {"Archiv", ROLE_ARCHIVE},
    {"[Google Mail]/Gesendet", ROLE_SENT},
    {"[Gmail]/Alle Nachrichten", ROLE_ALL},
    {"[Gmail]/Markiert", ROLE_FLAGGED},
    {"[Gmail]/Wichtig", ROLE_IMPORTANT},
    /* French */
    {"Éléments envoyés", ROLE_SENT},
    {"Envoyés", ROLE_SENT},
    {"Éléments supprimés", ROLE_TRASH},
    {"Corbeille", ROLE_TRASH},
    {"Courrier indésirable", ROLE_JUNK},
    {"Indésirables", ROLE_JUNK},
    {"Brouillons", ROLE_DRAFTS},
    {"[Gmail]/Messages envoyés", ROLE_SENT},
    {"[Gmail]/Tous les messages", ROLE_ALL},
    {"[Gmail]/Suivis", ROLE_FLAGGED},
    /* Spanish */
    {"Elementos enviados", ROLE_SENT},
    {"Enviados", ROLE_SENT},
    {"Elementos eliminados", ROLE_TRASH},
    {"Papelera", ROLE_TRASH},
    {"Correo no deseado", ROLE_JUNK},
    {"Borradores", ROLE_DRAFTS},
    {"Archivos", ROLE_ARCHIVE},
    {"[Gmail]/Todos", ROLE_ALL},
    /* Italian */
    {"Posta inviata", ROLE_SENT},
    {"Posta eliminata", ROLE_TRASH},
    {"Cestino", ROLE_TRASH},
    {"Posta indesiderata", ROLE_JUNK},
    {"Bozze", ROLE_DRAFTS},
    {"Archivi", ROLE_ARCHIVE},
    {"[Gmail]/Tutti i messaggi", ROLE_ALL},
    {"[Gmail]/Speciali", ROLE_FLAGGED},
    {"[Gmail]/Importanti", ROLE_IMPORTANT},
    /* Dutch */
    {"Verzonden items", ROLE_SENT},
    {"Verzonden", ROLE_SENT},
    {"Verwijderde items", ROLE_TRASH},
    {"Prullenbak", ROLE_TRASH},
    {"Ongewenste e-mail", ROLE_JUNK},
    {"Ongewenst", ROLE_JUNK},
    {"Concepten", ROLE_DRAFTS},
    {"Archieven", ROLE_ARCHIVE},
    {"[Gmail]/Verzonden berichten", ROLE_SENT},
    /* Portuguese */
    {"Itens Enviados", ROLE_SENT},
    {"Enviadas", ROLE_SENT},
    {"Itens Excluídos", ROLE_TRASH},
    {"Lixeira", ROLE_TRASH},
    {"Lixo", ROLE_TRASH},
    {"Lixo Eletrônico", ROLE_JUNK},
    {"Lixo eletrónico", ROLE_JUNK},
    {"Rascunhos", ROLE_DRAFTS},
    {"Arquivo", ROLE_ARCHIVE},
    /* Polish */
    {"Elementy wysłane", ROLE_SENT},
    {"Wysłane", ROLE_SENT},
    {"Elementy usunięte", ROLE_TRASH},
    {"Kosz", ROLE_TRASH},
    {"Wiadomości-śmieci", ROLE_JUNK},
    {"Niechciane", ROLE_JUNK},
    {"Szkice", ROLE_DRAFTS},
    {"Archiwum", ROLE_ARCHIVE},
    /* Swedish */
    {"Skickat", ROLE_SENT},
    {"Borttaget", ROLE_TRASH},
    {"Papperskorgen", ROLE_TRASH},
    {"Skräppost", ROLE_JUNK},
    {"Skräp", ROLE_JUNK},
    {"Utkast", ROLE_DRAFTS},
    {"Arkiv", ROLE_ARCHIVE},
    /* Czech */
    {"Odeslaná pošta", ROLE_SENT},
    {"Odstraněná pošta", ROLE_TRASH},
    {"Koš", ROLE_TRASH},
    {"Nevyžádaná", ROLE_JUNK},
    {"Koncepty", ROLE_DRAFTS},
    /* Russian */
    {"Отправленные", ROLE_SENT},
    {"Удаленные", ROLE_TRASH},
    {"Удалённые", ROLE_TRASH},
    {"Спам", ROLE_JUNK},
    {"Черновики", ROLE_DRAFTS},
    {"Архивы", ROLE_ARCHIVE},
    /* Japanese */
    {"送信済みアイテム", ROLE_SENT},
    {"送信済みトレイ", ROLE_SENT},
    {"削除済みアイテム", ROLE_TRASH},
    {"ごみ箱", ROLE_TRASH},
    {"迷惑メール", ROLE_JUNK},
    {"下書き", ROLE_DRAFTS},
    {"アーカイブ", ROLE_ARCHIVE},
    /* Chinese */
    {"已发送邮件", ROLE_SENT},
    {"已发送消息", ROLE_SENT},
    {"已删除邮件", ROLE_TRASH},
    {"废件箱", ROLE_TRASH},
    {"垃圾电子邮件", ROLE_JUNK},
    {"垃圾", ROLE_JUNK},
    {"草稿", ROLE_DRAFTS},
    {"归档", ROLE_ARCHIVE},
    /* no role */
    {"Important", ROLE_NONE}, /* Gmail's only under [Gmail] */
    {"Starred", ROLE_NONE},
    {"Sent Items Old", ROLE_NONE},
    {"Sent ", ROLE_NONE},
    {"Archive/2019", ROLE_NONE},
    {"Projects/Sent", ROLE_NONE},
    {"[Gmail]", ROLE_NONE},
    {"[Gmail]/Sent Items", ROLE_NONE},
    {"[Gmail]/Work", ROLE_NONE},
    {"", ROLE_NONE},
};

static enum role of(const char *name, char sep, const char *prefix, unsigned su)
{
	struct role_match m;

	return role_of(name, sep, prefix, su, &m);
}

static void test_names(void)
{
	for (size_t i = 0; i < N(names); i++) {
		enum role r = of(names[i].name, '/', "", 0);

		if (r != names[i].role)
			fprintf(stderr, "'%s': %s, want %s\n", names[i].name, role_name(r),
				role_name(names[i].role));
		CHECK(r == names[i].role);
	}
}

/* Every row is reachable: no earlier row of another role shadows it. */
static void test_table_rows(void)
{
	for (size_t i = 0; i < role_known_count; i++) {
		const struct role_known *k = &role_known_names[i],
					*hit = role_lookup(k->name, k->gmail);

		CHECK(hit && hit->role == k->role);
		CHECK(role_lang_name(k->lang) != k->lang); /* a language we can name */
	}
}

/* At most one default name per profile, language and role. */
static void test_table_defaults(void)
{
	static const unsigned profiles[] = {ROLE_OUTLOOK, ROLE_GMAIL,
					    ROLE_DOVECOT | ROLE_THUNDERBIRD};

	for (size_t p = 0; p < N(profiles); p++) {
		for (size_t i = 0; i < role_known_count; i++) {
			const struct role_known *a = &role_known_names[i];
			int twins = 0;

			if (!(a->clients & ROLE_DEFAULT) || !(a->clients & profiles[p]))
				continue;
			for (size_t j = i + 1; j < role_known_count; j++) {
				const struct role_known *b = &role_known_names[j];

				twins += (b->clients & ROLE_DEFAULT) &&
					 (b->clients & profiles[p]) && b->role == a->role &&
					 b->gmail == a->gmail && !strcmp(b->lang, a->lang);
			}
			if (twins)
				fprintf(stderr, "two defaults like '%s'\n", a->name);
			CHECK(twins == 0);
		}
	}
}

static void test_case_and_prefix(void)
{
	static const struct {
		const char *name, *prefix;
		char sep;
		enum role role;
	} cases[] = {
	    {"SENT ITEMS", "", '/', ROLE_SENT},
	    {"sent items", "", '/', ROLE_SENT},
	    {"GELÖSCHTE ELEMENTE", "", '/', ROLE_TRASH},
	    {"gesendete elemente", "", '/', ROLE_SENT},
	    {"ÉLÉMENTS ENVOYÉS", "", '/', ROLE_SENT},
	    {"ELEMENTY WYSŁANE", "", '/', ROLE_SENT},
	    {"ODSTRANĚNÁ POŠTA", "", '/', ROLE_TRASH},
	    {"ОТПРАВЛЕННЫЕ", "", '/', ROLE_SENT},
	    {"УДАЛЁННЫЕ", "", '/', ROLE_TRASH},
	    {"INBOX.Sent", "", '.', ROLE_SENT},
	    {"INBOX/Sent", "", '/', ROLE_SENT},
	    {"inbox.Junk E-Mail", "", '.', ROLE_JUNK},
	    {"INBOX.Sent Items", "INBOX.", '.', ROLE_SENT},
	    {"INBOX.INBOX.Sent", "INBOX.", '.', ROLE_SENT},
	    {"INBOX.Sent.2019", "", '.', ROLE_NONE},
	    {"INBOX/Sent", "", '.', ROLE_NONE}, /* one level "INBOX/Sent" */
	    {"Sent/Old", "", 0, ROLE_NONE},	/* flat: the whole name */
	    {"Sent", "", 0, ROLE_SENT},
	    {"INBOX", "", '/', ROLE_INBOX},
	    {"inbox", "", '/', ROLE_INBOX},
	    {"INBOX", "INBOX.", '.', ROLE_INBOX},
	    {"INBOX.", "INBOX.", '.', ROLE_NONE},
	    {"INBOX/Drafts", "", '/', ROLE_DRAFTS},
	    {"INBOX/[Gmail]/Spam", "", '/', ROLE_JUNK},
	    {"[GMAIL]/sent mail", "", '/', ROLE_SENT},
	    {"[Gmail].Sent Mail", "", '.', ROLE_SENT},
	    {"Mail/Trash", "Mail/", '/', ROLE_TRASH},
	    {"Mail/Trash", "", '/', ROLE_NONE},
	};

	for (size_t i = 0; i < N(cases); i++) {
		enum role r = of(cases[i].name, cases[i].sep, cases[i].prefix, 0);

		if (r != cases[i].role)
			fprintf(stderr, "'%s' sep '%c' prefix '%s': %s\n", cases[i].name,
				cases[i].sep, cases[i].prefix, role_name(r));
		CHECK(r == cases[i].role);
	}
	CHECK(role_name_cmp("ΚΑΛΟΣ", "καλοσ") == 0);
	CHECK(role_name_cmp("Σ", "ς") == 0);
	CHECK(role_name_cmp("ŸĲ", "ÿĳ") == 0);
	CHECK(role_name_cmp("Ѐ", "ѐ") == 0);
	CHECK(role_name_cmp("a", "b") < 0);
	CHECK(role_name_cmp("\xff", "\xfe") != 0);
	CHECK(role_name_cmp("\xc3", "\xc3\xa9") != 0);
}

static void test_attributes(void)
{
	static const struct {
		const char *attr;
		enum role role;
	} attrs[] = {
	    {"\\Sent", ROLE_SENT},
	    {"\\sent", ROLE_SENT},
	    {"Drafts", ROLE_DRAFTS},
	    {"\\Trash", ROLE_TRASH},
	    {"\\Junk", ROLE_JUNK},
	    {"\\Archive", ROLE_ARCHIVE},
	    {"\\All", ROLE_ALL},
	    {"\\Flagged", ROLE_FLAGGED},
	    {"\\Important", ROLE_IMPORTANT},
	    {"\\Inbox", ROLE_INBOX},
	    {"\\AllMail", ROLE_ALL},
	    {"\\Spam", ROLE_JUNK},
	    {"\\Starred", ROLE_FLAGGED},
	    {"\\HasChildren", ROLE_NONE},
	    {"\\", ROLE_NONE},
	    {"", ROLE_NONE},
	};
	struct role_match m;

	for (size_t i = 0; i < N(attrs); i++) {
		CHECK(role_of_attr(attrs[i].attr) == attrs[i].role);
		/* the SU_ bit is the role's (none for \Inbox, which is no special use) */
		CHECK(role_su_from_attr(attrs[i].attr) == role_su_bit(attrs[i].role));
	}
	/* the attribute beats the name */
	CHECK(role_of("Sent", '/', "", SU_TRASH, &m) == ROLE_TRASH && m.by == ROLE_BY_ATTR &&
	      !m.known);
	CHECK(role_of("Work", '/', "", SU_JUNK | SU_SENT, &m) == ROLE_SENT);
	CHECK(role_of("Sent", '/', "", 0, &m) == ROLE_SENT && m.by == ROLE_BY_NAME && m.known &&
	      !strcmp(m.known->lang, "en"));
	CHECK(role_of("INBOX", '/', "", 0, &m) == ROLE_INBOX && m.by == ROLE_BY_INBOX);
	CHECK(role_of_su(SU_IMPORTANT | SU_ALL) == ROLE_ALL);
	CHECK(role_of_su(0) == ROLE_NONE);
	for (int r = ROLE_SENT; r < ROLE_COUNT; r++)
		CHECK(role_of_su(role_su_bit((enum role)r)) == (enum role)r);
	CHECK(role_su_bit(ROLE_INBOX) == 0);
	CHECK_STR(role_name(ROLE_JUNK), "junk");
	CHECK_STR(role_name((enum role)42), "none");
	CHECK(role_by_name("Archive") == ROLE_ARCHIVE);
	CHECK(role_by_name("none") == ROLE_NONE);
}

/* ---- plans ---- */

struct folder {
	const char *name;
	unsigned su;
};

static struct role_folder *classify(const struct folder *f, size_t n, char sep)
{
	struct role_folder *out = calloc(n ? n : 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++) {
		out[i].name = f[i].name;
		role_of(f[i].name, sep, "", f[i].su, &out[i].m);
	}
	return out;
}

/* What a plan must say of one source folder. */
struct want {
	const char *src, *dst; /* dst NULL: no destination folder of the role */
	int create;
	const char *why; /* NULL: not checked */
};

/* No two destination folders for one role, whatever the input. */
static void check_one_per_role(const struct role_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = i + 1; j < p->n; j++)
			if (p->e[i].role == p->e[j].role && strcmp(p->e[i].why, "--map") &&
			    strcmp(p->e[j].why, "--map"))
				CHECK((!p->e[i].dst && !p->e[j].dst) ||
				      (p->e[i].dst && p->e[j].dst &&
				       !strcmp(p->e[i].dst, p->e[j].dst)));
}

static void check_plan(const struct role_plan *p, const struct want *w, size_t nw, size_t entries)
{
	CHECK(p->n == entries);
	for (size_t i = 0; i < nw; i++) {
		const struct role_plan_entry *e = role_plan_find(p, w[i].src);

		CHECK(e != NULL);
		if (!e)
			continue;
		if (w[i].dst)
			CHECK_STR(e->dst, w[i].dst);
		else
			CHECK(e->dst == NULL);
		CHECK(e->create == w[i].create);
		if (w[i].why)
			CHECK_STR(e->why, w[i].why);
	}
	check_one_per_role(p);
}

struct scenario {
	const struct folder *src, *dst;
	size_t nsrc, ndst;
	enum role_profile profile;
	const struct role_map *maps;
	size_t nmaps;
	const char *prefix;
};

static enum ms_status plan(const struct scenario *s, struct role_plan *p)
{
	struct role_folder *src = classify(s->src, s->nsrc, '/'),
			   *dst = classify(s->dst, s->ndst, '/');
	struct role_plan_in in = {src,	   s->nsrc,  dst, s->ndst,  s->profile,
				  s->maps, s->nmaps, '/', s->prefix};
	enum ms_status st = role_plan_build(&in, p);

	free(src);
	free(dst);
	return st;
}

#define SCENARIO(s, d)                                                                             \
	{                                                                                          \
		s, d, N(s), N(d), ROLE_PROFILE_AUTO, NULL, 0, NULL                                 \
	}

/* Plan s and check the profile, the language and the entries w. */
static void run(const struct scenario *s, enum role_profile profile, const char *lang,
		const struct want *w, size_t nw, size_t entries)
{
	struct role_plan p;

	CHECK(plan(s, &p) == MS_OK);
	CHECK(p.profile == profile);
	CHECK_STR(p.lang, lang);
	check_plan(&p, w, nw, entries);
	role_plan_free(&p);
}

/* Issue #17: an Exchange Online destination, a source without attributes. */
static void test_plan_exchange(void)
{
	static const struct folder src[] = {
	    {"INBOX", 0},	  {"Sent", 0},	   {"Junk E-Mail", 0}, {"Drafts", 0},
	    {"Deleted Items", 0}, {"Projects", 0}, {"Trash", 0},
	};
	static const struct folder dst[] = {
	    {"INBOX", 0},      {"Sent Items", 0}, {"Deleted Items", 0},
	    {"Junk Email", 0}, {"Drafts", 0},	  {"Archive", 0},
	};
	static const struct want w[] = {
	    {"INBOX", "INBOX", 0, "INBOX"},
	    {"Sent", "Sent Items", 0,
	     "name 'Sent' (Thunderbird, Dovecot, English); to name 'Sent Items' (Exchange, "
	     "English)"},
	    {"Junk E-Mail", "Junk Email", 0, NULL},
	    {"Drafts", "Drafts", 0, NULL},
	    {"Deleted Items", "Deleted Items", 0, NULL},
	    {"Trash", "Deleted Items", 0, NULL},
	};
	struct scenario s = SCENARIO(src, dst);

	/* "Projects" has no role: not in the plan (6 entries for 7 folders) */
	run(&s, ROLE_PROFILE_EXCHANGE, "en", w, N(w), 6);
}

/* A German Exchange destination; a Dovecot source with attributes. */
static void test_plan_german(void)
{
	static const struct folder src[] = {
	    {"Sent", SU_SENT},	   {"Trash", SU_TRASH},	    {"Junk", SU_JUNK},
	    {"Drafts", SU_DRAFTS}, {"Archive", SU_ARCHIVE}, {"Sent Messages", 0},
	};
	static const struct folder dst[] = {
	    {"INBOX", 0},	{"Gesendete Elemente", 0}, {"Gelöschte Elemente", 0},
	    {"Junk-E-Mail", 0}, {"Entwürfe", 0},	   {"Kalender", 0},
	};
	static const struct want w[] = {
	    {"Sent", "Gesendete Elemente", 0,
	     "attribute \\Sent; to name 'Gesendete Elemente' (Exchange, German)"},
	    {"Sent Messages", "Gesendete Elemente", 0, NULL},
	    {"Trash", "Gelöschte Elemente", 0, NULL},
	    {"Junk", "Junk-E-Mail", 0, NULL},
	    {"Drafts", "Entwürfe", 0, NULL},
	    /* no German Exchange name for Archive in the table: the English one */
	    {"Archive", "Archive", 1,
	     "attribute \\Archive; to default name for profile exchange, German"},
	};
	struct scenario s = SCENARIO(src, dst);

	run(&s, ROLE_PROFILE_EXCHANGE, "de", w, N(w), 6);
}

/* A French Exchange destination without a junk folder: it gets the French name. */
static void test_plan_french(void)
{
	static const struct folder src[] = {
	    {"INBOX.Sent", 0},
	    {"INBOX.Trash", 0},
	    {"INBOX.Spam", 0},
	    {"INBOX.Drafts", 0},
	};
	static const struct folder dst[] = {
	    {"INBOX", 0},
	    {"Éléments envoyés", 0},
	    {"Éléments supprimés", 0},
	    {"Brouillons", 0},
	};
	static const struct want w[] = {
	    {"INBOX.Sent", "Éléments envoyés", 0, NULL},
	    {"INBOX.Trash", "Éléments supprimés", 0, NULL},
	    {"INBOX.Spam", "Courrier indésirable", 1,
	     "name 'INBOX.Spam' (English); to default name for profile exchange, French"},
	    {"INBOX.Drafts", "Brouillons", 0, NULL},
	};
	struct role_folder *sf = calloc(N(src), sizeof(*sf)), *df = classify(dst, N(dst), '/');
	struct role_plan_in in = {sf, N(src), df, N(dst), ROLE_PROFILE_AUTO, NULL, 0, '/', NULL};
	struct role_plan p;

	for (size_t i = 0; sf && i < N(src); i++) {
		sf[i].name = src[i].name;
		role_of(src[i].name, '.', "", 0, &sf[i].m);
	}
	CHECK(role_plan_build(&in, &p) == MS_OK);
	CHECK(p.profile == ROLE_PROFILE_EXCHANGE);
	CHECK_STR(p.lang, "fr");
	check_plan(&p, w, N(w), 4);
	role_plan_free(&p);
	free(sf);
	free(df);
}

/* Two folders of a role on each side: one destination folder, the one with the attribute. */
static void test_plan_one_folder_per_role(void)
{
	static const struct folder src[] = {
	    {"Sent", SU_SENT},
	    {"Sent Items", 0},
	    {"INBOX/Sent Messages", 0},
	    {"Gesendet", 0},
	};
	static const struct folder dst[] = {
	    {"Sent", 0},
	    {"Sent Messages", SU_SENT},
	    {"Sent Items", 0},
	};
	static const struct want w[] = {
	    {"Sent", "Sent Messages", 0, "attribute \\Sent on both"},
	    {"Sent Items", "Sent Messages", 0, NULL},
	    {"INBOX/Sent Messages", "Sent Messages", 0, NULL},
	    {"Gesendet", "Sent Messages", 0, NULL},
	};
	static const struct folder dst2[] = {{"Sent", 0}, {"Sent Items", 0}};
	struct scenario s = SCENARIO(src, dst), s2 = SCENARIO(src, dst2);
	struct role_plan p;

	CHECK(plan(&s, &p) == MS_OK);
	check_plan(&p, w, N(w), 4);
	role_plan_free(&p);
	/* by name only: the table's earliest row ("Sent Items", Exchange) wins */
	CHECK(plan(&s2, &p) == MS_OK);
	CHECK(p.n == 4);
	for (size_t i = 0; i < p.n; i++)
		CHECK_STR(p.e[i].dst, "Sent Items");
	role_plan_free(&p);
}

/* Profiles' default names, the namespace prefix, Gmail, --map. */
static void test_plan_defaults(void)
{
	static const struct folder src[] = {
	    {"Sent", SU_SENT},
	    {"Trash", SU_TRASH},
	    {"Junk", SU_JUNK},
	    {"Drafts", SU_DRAFTS},
	    {"Archive", SU_ARCHIVE},
	    {"[Gmail]/All Mail", SU_ALL},
	    {"Old", 0},
	};
	static const struct folder dst[] = {{"INBOX", 0}};
	static const struct folder gdst[] = {
	    {"INBOX", 0},
	    {"[Google Mail]/Sent Mail", SU_SENT},
	    {"[Google Mail]/Papierkorb", 0},
	};
	static const struct role_map maps[] = {{"Old", "Archive/Old"}, {"Junk", "Spam"}};
	static const struct want dovecot[] = {
	    {"Sent", "INBOX.Sent", 1, "attribute \\Sent; to default name for profile dovecot"},
	    {"Trash", "INBOX.Trash", 1, NULL},
	    {"Junk", "INBOX.Junk", 1, NULL},
	    {"Drafts", "INBOX.Drafts", 1, NULL},
	    {"Archive", "INBOX.Archive", 1, NULL},
	    {"[Gmail]/All Mail", NULL, 0,
	     "attribute \\All; to no all folder there, and profile dovecot makes none"},
	};
	static const struct want gmail[] = {
	    {"Sent", "[Google Mail]/Sent Mail", 0, "attribute \\Sent on both"},
	    {"Trash", "[Google Mail]/Papierkorb", 0, NULL},
	    {"[Gmail]/All Mail", "[Google Mail]/Alle Nachrichten", 1, NULL}, /* German Gmail */
	    {"Old", "Archive/Old", 1, "--map"},
	    {"Junk", "Spam", 1, "--map"},
	};
	struct scenario s = SCENARIO(src, dst), g = SCENARIO(src, gdst);

	s.profile = ROLE_PROFILE_DOVECOT;
	s.prefix = "INBOX.";
	run(&s, ROLE_PROFILE_DOVECOT, "en", dovecot, N(dovecot), 6);
	g.maps = maps;
	g.nmaps = N(maps);
	run(&g, ROLE_PROFILE_GMAIL, "de", gmail, N(gmail), 7);
}

static void test_profiles(void)
{
	static const char *const gm[] = {"IMAP4rev1", "X-GM-EXT-1"}, *const plain[] = {"IMAP4rev1"};
	static const struct folder ex[] = {{"Drafts", 0}, {"Deleted Items", 0}};
	static const struct folder dv[] = {{"Drafts", 0}, {"Trash", 0}};
	struct role_folder *exf = classify(ex, N(ex), '/'), *dvf = classify(dv, N(dv), '/');
	enum role_profile p = ROLE_PROFILE_AUTO;
	char why[80];

	CHECK(role_profile_guess(NULL, gm, 2, NULL, 0, why, sizeof(why)) == ROLE_PROFILE_GMAIL);
	CHECK_STR(why, "capability X-GM-EXT-1");
	CHECK(role_profile_guess("* OK The Microsoft Exchange IMAP4 service is ready.", plain, 1,
				 NULL, 0, why, sizeof(why)) == ROLE_PROFILE_EXCHANGE);
	CHECK(role_profile_guess("* OK [CAPABILITY IMAP4rev1] Dovecot (Debian) ready.", plain, 1,
				 exf, N(ex), NULL, 0) == ROLE_PROFILE_DOVECOT);
	CHECK(role_profile_guess(NULL, NULL, 0, exf, N(ex), why, sizeof(why)) ==
	      ROLE_PROFILE_EXCHANGE);
	CHECK_STR(why, "folder 'Deleted Items' is named as Exchange names it");
	CHECK(role_profile_guess(NULL, NULL, 0, dvf, N(dv), NULL, 0) == ROLE_PROFILE_DOVECOT);
	CHECK(role_profile_parse("Exchange", &p) == MS_OK && p == ROLE_PROFILE_EXCHANGE);
	CHECK(role_profile_parse("cyrus", &p) == MS_ERR_USAGE && p == ROLE_PROFILE_EXCHANGE);
	CHECK_STR(role_profile_name(ROLE_PROFILE_GMAIL), "gmail");
	CHECK_STR(role_default_name(ROLE_PROFILE_EXCHANGE, ROLE_JUNK, "de"), "Junk-E-Mail");
	CHECK_STR(role_default_name(ROLE_PROFILE_EXCHANGE, ROLE_ARCHIVE, "de"), "Archive");
	CHECK_STR(role_default_name(ROLE_PROFILE_DOVECOT, ROLE_TRASH, "de"), "Papierkorb");
	CHECK_STR(role_default_name(ROLE_PROFILE_GMAIL, ROLE_SENT, "xx"), "Sent Mail");
	CHECK(role_default_name(ROLE_PROFILE_EXCHANGE, ROLE_FLAGGED, "en") == NULL);
	CHECK(role_default_name(ROLE_PROFILE_DOVECOT, ROLE_INBOX, "en") == NULL);
	free(exf);
	free(dvf);
}

int main(void)
{
	test_names();
	test_table_rows();
	test_table_defaults();
	test_case_and_prefix();
	test_attributes();
	test_plan_exchange();
	test_plan_german();
	test_plan_french();
	test_plan_one_folder_per_role();
	test_plan_defaults();
	test_profiles();
	return unit_done();
}
