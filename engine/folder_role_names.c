/*
 * folder_role_names.c - the names mail clients and servers give their
 * special folders, for servers that do not say which folder is which (see
 * folder_role.h).  Data only.
 *
 * Every name is here because a source below shows it; names we could not
 * confirm are left out rather than guessed (docs/internals/folder-roles.md
 * lists what is missing).  Sources, by tag:
 *
 *   [OL]  Microsoft, Outlook VBA and .NET reference, "OlDefaultFolders
 *         enumeration", in its localized editions: learn.microsoft.com/
 *         LL-CC/office/vba/api/outlook.oldefaultfolders and .../dotnet/api/
 *         microsoft.office.interop.outlook.oldefaultfolders (en-us, de-de,
 *         es-es, fr-fr, ja-jp, pt-br, zh-cn): the folder names of Outlook
 *         in each language.
 *   [MS]  Microsoft's localized Exchange Online, Microsoft 365 and Outlook
 *         documentation (the MicrosoftDocs repositories) naming the folder
 *         in running text: e.g. de "Exchange Online-Grenzwerte" ("Ordner
 *         Gelöschte Elemente", "Junk-E-Mail"); es EWS CreateItem ("carpeta
 *         Elementos enviados"), anti-spam policies ("carpeta Correo no
 *         deseado"); it shared mailboxes ("cartella Posta inviata"), limits
 *         ("Posta eliminata", "Posta indesiderata"); nl and pl and sv
 *         "recall a message" ("map Verzonden items", "folder Elementy
 *         wysłane", "mappen Skickat"); nl, pl, cs, pt-br, sv Microsoft 365
 *         Defender and auditing pages ("Verwijderde items", "Ongewenste
 *         e-mail", "Elementy usunięte", "Wiadomości-śmieci", "Odstraněná
 *         pošta", "Lixo Eletrônico", "Skräppost"); ru EWS and Outlook
 *         add-in reference ("папку \"Удаленные\"", "папке \"Отправленные\"").
 *         English: Microsoft Graph's mailFolder well-known names and the
 *         Exchange Online limits page ("Sent Items", "Deleted Items",
 *         "Junk Email", "Drafts", "Archive").
 *   [TB]  Thunderbird's names for its special folders, messenger.properties
 *         (inboxFolderName ... archivesFolderName): en-US in comm-central
 *         mail/locales/en-US/chrome/messenger/, the others in the
 *         thunderbird/thunderbird-l10n repository, LL/mail/chrome/messenger/.
 *         Thunderbird shows these names; users of a localized Thunderbird,
 *         and webmail that copies them, create folders so named.
 *   [GM]  Gmail, under [Gmail]/ (or [Google Mail]/ in Germany and the UK):
 *         Google's "IMAP Extensions" page (developers.google.com/gmail/imap/
 *         imap-extensions) for English; [Google Mail]/Bin in British English
 *         and the localized names as listed by Gmail accounts in those
 *         languages, seen in several independent public programs and
 *         configurations (e.g. mu4e, Home Manager and imaplib scripts).
 *   [AP]  Apple Mail: the folders Mail.app creates on an empty IMAP account
 *         (apple.stackexchange.com question 105145, a LIST after Mail.app
 *         ran); Mail-in-a-Box's notes confirm "Sent Messages" and "Archive".
 *   [DV]  Dovecot's example conf.d/15-mailboxes.conf (Drafts, Junk, Trash,
 *         Sent, "Sent Messages").
 *   [WD]  WildDuck's default folder names (nodemailer/wildduck,
 *         lib/translations.js: \Sent is "Sent Mail").
 *   [YH]  Yahoo Mail's IMAP junk folder, "Bulk Mail" (IMAP settings of
 *         public Yahoo clients).
 *
 * Order matters twice: role_lookup() takes the first row of a name, and
 * among a destination's folders found by name the one of the earliest row
 * wins.  ROLE_DEFAULT marks the name a profile creates (exchange: ROLE_OUTLOOK
 * rows; gmail: ROLE_GMAIL; dovecot: ROLE_DOVECOT or ROLE_THUNDERBIRD), at most
 * one per profile, language and role (the unit test checks it).
 */
#include "folder_role.h"

#define OL ROLE_OUTLOOK
#define GM ROLE_GMAIL
#define TB ROLE_THUNDERBIRD
#define AP ROLE_APPLE
#define DV ROLE_DOVECOT
#define OT ROLE_OTHER
#define DEF ROLE_DEFAULT

const struct role_known role_known_names[] = {
    /* English */
    {"Sent Items", ROLE_SENT, "en", OL | DEF, 0},	       /* [MS] [OL] */
    {"Sent", ROLE_SENT, "en", TB | DV | DEF, 0},	       /* [TB] [DV] */
    {"Sent Messages", ROLE_SENT, "en", AP | DV, 0},	       /* [AP] [DV] */
    {"Sent Mail", ROLE_SENT, "en", OT, 0},		       /* [WD] */
    {"Drafts", ROLE_DRAFTS, "en", OL | TB | AP | DV | DEF, 0}, /* [MS] [OL] [TB] [AP] [DV] */
    {"Deleted Items", ROLE_TRASH, "en", OL | DEF, 0},	       /* [MS] [OL] */
    {"Trash", ROLE_TRASH, "en", TB | DV | DEF, 0},	       /* [TB] [DV] */
    {"Deleted Messages", ROLE_TRASH, "en", AP, 0},	       /* [AP] */
    {"Deleted", ROLE_TRASH, "en", TB, 0},		       /* [TB] en-GB */
    {"Junk Email", ROLE_JUNK, "en", OL | DEF, 0},	       /* [MS] Exchange Online */
    {"Junk E-Mail", ROLE_JUNK, "en", OL, 0},		       /* [OL] older Outlook */
    {"Junk", ROLE_JUNK, "en", TB | AP | DV | DEF, 0},	       /* [TB] [AP] [DV] */
    {"Spam", ROLE_JUNK, "en", OT, 0},			       /* [GM] name, Mail-in-a-Box */
    {"Bulk Mail", ROLE_JUNK, "en", OT, 0},		       /* [YH] */
    {"Archive", ROLE_ARCHIVE, "en", OL | AP | DV | DEF, 0},    /* [MS] [AP]; dovecot profile */
    {"Archives", ROLE_ARCHIVE, "en", TB, 0},		       /* [TB] */
    /* Gmail's names where a Maildir copy dropped the [Gmail] level
     * (mbsync and OfflineIMAP configurations do) */
    {"Bin", ROLE_TRASH, "en", GM, 0},	 /* [GM] */
    {"All Mail", ROLE_ALL, "en", GM, 0}, /* [GM] */
    /* English, Gmail */
    {"Sent Mail", ROLE_SENT, "en", GM | DEF, 1},      /* [GM] */
    {"Drafts", ROLE_DRAFTS, "en", GM | DEF, 1},	      /* [GM] */
    {"Trash", ROLE_TRASH, "en", GM | DEF, 1},	      /* [GM] */
    {"Bin", ROLE_TRASH, "en", GM, 1},		      /* [GM] en-GB */
    {"Spam", ROLE_JUNK, "en", GM | DEF, 1},	      /* [GM] */
    {"All Mail", ROLE_ALL, "en", GM | DEF, 1},	      /* [GM] */
    {"Starred", ROLE_FLAGGED, "en", GM | DEF, 1},     /* [GM] */
    {"Important", ROLE_IMPORTANT, "en", GM | DEF, 1}, /* [GM] */

    /* German */
    {"Gesendete Elemente", ROLE_SENT, "de", OL | DEF, 0},  /* [OL] */
    {"Gesendet", ROLE_SENT, "de", TB | DEF, 0},		   /* [TB] */
    {"Entwürfe", ROLE_DRAFTS, "de", OL | TB | DEF, 0},	   /* [OL] [TB] */
    {"Gelöschte Elemente", ROLE_TRASH, "de", OL | DEF, 0}, /* [MS] Exchange Online */
    {"Gelöschte Objekte", ROLE_TRASH, "de", OL, 0},	   /* [OL] older Outlook */
    {"Papierkorb", ROLE_TRASH, "de", TB | DEF, 0},	   /* [TB] */
    {"Junk-E-Mail", ROLE_JUNK, "de", OL | DEF, 0},	   /* [OL] [MS] */
    {"Archiv", ROLE_ARCHIVE, "de", TB | DEF, 0},	   /* [TB] */
    {"Gesendet", ROLE_SENT, "de", GM | DEF, 1},		   /* [GM] */
    {"Entwürfe", ROLE_DRAFTS, "de", GM | DEF, 1},	   /* [GM] */
    {"Papierkorb", ROLE_TRASH, "de", GM | DEF, 1},	   /* [GM] */
    {"Alle Nachrichten", ROLE_ALL, "de", GM | DEF, 1},	   /* [GM] */
    {"Markiert", ROLE_FLAGGED, "de", GM | DEF, 1},	   /* [GM] */
    {"Wichtig", ROLE_IMPORTANT, "de", GM | DEF, 1},	   /* [GM] */

    /* French */
    {"Éléments envoyés", ROLE_SENT, "fr", OL | DEF, 0},	    /* [OL] */
    {"Envoyés", ROLE_SENT, "fr", TB | DEF, 0},		    /* [TB] */
    {"Brouillons", ROLE_DRAFTS, "fr", OL | TB | DEF, 0},    /* [OL] [TB] */
    {"Éléments supprimés", ROLE_TRASH, "fr", OL | DEF, 0},  /* [OL] */
    {"Corbeille", ROLE_TRASH, "fr", TB | DEF, 0},	    /* [TB] */
    {"Courrier indésirable", ROLE_JUNK, "fr", OL | DEF, 0}, /* [OL] */
    {"Indésirables", ROLE_JUNK, "fr", TB | DEF, 0},	    /* [TB] */
    {"Archives", ROLE_ARCHIVE, "fr", TB | DEF, 0},	    /* [TB] */
    {"Messages envoyés", ROLE_SENT, "fr", GM | DEF, 1},	    /* [GM] */
    {"Brouillons", ROLE_DRAFTS, "fr", GM | DEF, 1},	    /* [GM] */
    {"Corbeille", ROLE_TRASH, "fr", GM | DEF, 1},	    /* [GM] */
    {"Tous les messages", ROLE_ALL, "fr", GM | DEF, 1},	    /* [GM] */
    {"Suivis", ROLE_FLAGGED, "fr", GM | DEF, 1},	    /* [GM] */

    /* Spanish */
    {"Elementos enviados", ROLE_SENT, "es", OL | DEF, 0},     /* [MS] */
    {"Correo enviado", ROLE_SENT, "es", OL, 0},		      /* [OL] */
    {"Enviados", ROLE_SENT, "es", TB | DEF, 0},		      /* [TB] */
    {"Borradores", ROLE_DRAFTS, "es", OL | TB | DEF, 0},      /* [OL] [TB] */
    {"Elementos eliminados", ROLE_TRASH, "es", OL | DEF, 0},  /* [OL] */
    {"Papelera", ROLE_TRASH, "es", TB | DEF, 0},	      /* [TB] */
    {"Correo no deseado", ROLE_JUNK, "es", OL | TB | DEF, 0}, /* [MS] [TB] */
    {"Archivos", ROLE_ARCHIVE, "es", TB | DEF, 0},	      /* [TB] */
    {"Todos", ROLE_ALL, "es", GM | DEF, 1},		      /* [GM] */

    /* Italian */
    {"Posta inviata", ROLE_SENT, "it", OL | TB | DEF, 0}, /* [MS] [TB] */
    {"Bozze", ROLE_DRAFTS, "it", TB | DEF, 0},		  /* [TB] */
    {"Posta eliminata", ROLE_TRASH, "it", OL | DEF, 0},	  /* [MS] */
    {"Cestino", ROLE_TRASH, "it", TB | DEF, 0},		  /* [TB] */
    {"Posta indesiderata", ROLE_JUNK, "it", OL | DEF, 0}, /* [MS] */
    {"Indesiderata", ROLE_JUNK, "it", TB | DEF, 0},	  /* [TB] */
    {"Archivi", ROLE_ARCHIVE, "it", TB | DEF, 0},	  /* [TB] */
    {"Posta inviata", ROLE_SENT, "it", GM | DEF, 1},	  /* [GM] */
    {"Bozze", ROLE_DRAFTS, "it", GM | DEF, 1},		  /* [GM] */
    {"Cestino", ROLE_TRASH, "it", GM | DEF, 1},		  /* [GM] */
    {"Tutti i messaggi", ROLE_ALL, "it", GM | DEF, 1},	  /* [GM] */
    {"Speciali", ROLE_FLAGGED, "it", GM | DEF, 1},	  /* [GM] */
    {"Importanti", ROLE_IMPORTANT, "it", GM | DEF, 1},	  /* [GM] */

    /* Dutch */
    {"Verzonden items", ROLE_SENT, "nl", OL | DEF, 0},	   /* [MS] */
    {"Verzonden", ROLE_SENT, "nl", TB | DEF, 0},	   /* [TB] */
    {"Concepten", ROLE_DRAFTS, "nl", TB | DEF, 0},	   /* [TB] */
    {"Verwijderde items", ROLE_TRASH, "nl", OL | DEF, 0},  /* [MS] */
    {"Prullenbak", ROLE_TRASH, "nl", TB | DEF, 0},	   /* [TB] */
    {"Ongewenste e-mail", ROLE_JUNK, "nl", OL | DEF, 0},   /* [MS] */
    {"Ongewenst", ROLE_JUNK, "nl", TB | DEF, 0},	   /* [TB] */
    {"Archieven", ROLE_ARCHIVE, "nl", TB | DEF, 0},	   /* [TB] */
    {"Verzonden berichten", ROLE_SENT, "nl", GM | DEF, 1}, /* [GM] */

    /* Portuguese (Brazil, Portugal) */
    {"Itens Enviados", ROLE_SENT, "pt", OL | DEF, 0},	/* [OL] pt-BR */
    {"Enviadas", ROLE_SENT, "pt", TB | DEF, 0},		/* [TB] pt-BR, pt-PT */
    {"Rascunhos", ROLE_DRAFTS, "pt", OL | TB | DEF, 0}, /* [OL] [TB] */
    {"Itens Excluídos", ROLE_TRASH, "pt", OL | DEF, 0}, /* [OL] pt-BR */
    {"Lixeira", ROLE_TRASH, "pt", TB | DEF, 0},		/* [TB] pt-BR */
    {"Lixo", ROLE_TRASH, "pt", TB, 0},			/* [TB] pt-PT */
    {"Lixo Eletrônico", ROLE_JUNK, "pt", OL | DEF, 0},	/* [MS] pt-BR */
    {"Lixo eletrónico", ROLE_JUNK, "pt", TB, 0},	/* [TB] pt-PT */
    {"Arquivo", ROLE_ARCHIVE, "pt", TB | DEF, 0},	/* [TB] pt-PT */
    {"Arquivamento", ROLE_ARCHIVE, "pt", TB, 0},	/* [TB] pt-BR */

    /* Polish */
    {"Elementy wysłane", ROLE_SENT, "pl", OL | DEF, 0},	  /* [MS] */
    {"Wysłane", ROLE_SENT, "pl", TB | DEF, 0},		  /* [TB] */
    {"Szkice", ROLE_DRAFTS, "pl", TB | DEF, 0},		  /* [TB] */
    {"Elementy usunięte", ROLE_TRASH, "pl", OL | DEF, 0}, /* [MS] */
    {"Kosz", ROLE_TRASH, "pl", TB | DEF, 0},		  /* [TB] */
    {"Wiadomości-śmieci", ROLE_JUNK, "pl", OL | DEF, 0},  /* [MS] */
    {"Niechciane", ROLE_JUNK, "pl", TB | DEF, 0},	  /* [TB] */
    {"Archiwum", ROLE_ARCHIVE, "pl", TB | DEF, 0},	  /* [TB] */

    /* Swedish */
    {"Skickat", ROLE_SENT, "sv", OL | TB | DEF, 0},   /* [MS] [TB] */
    {"Utkast", ROLE_DRAFTS, "sv", TB | DEF, 0},	      /* [TB] */
    {"Borttaget", ROLE_TRASH, "sv", OL | DEF, 0},     /* [MS] */
    {"Papperskorgen", ROLE_TRASH, "sv", TB | DEF, 0}, /* [TB] */
    {"Skräppost", ROLE_JUNK, "sv", OL | DEF, 0},      /* [MS] */
    {"Skräp", ROLE_JUNK, "sv", TB | DEF, 0},	      /* [TB] */
    {"Arkiv", ROLE_ARCHIVE, "sv", TB | DEF, 0},	      /* [TB] */

    /* Czech */
    {"Odeslaná pošta", ROLE_SENT, "cs", TB | DEF, 0},	 /* [TB] */
    {"Koncepty", ROLE_DRAFTS, "cs", TB | DEF, 0},	 /* [TB] */
    {"Odstraněná pošta", ROLE_TRASH, "cs", OL | DEF, 0}, /* [MS] */
    {"Koš", ROLE_TRASH, "cs", TB | DEF, 0},		 /* [TB] */
    {"Nevyžádaná", ROLE_JUNK, "cs", TB | DEF, 0},	 /* [TB] */
    {"Archiv", ROLE_ARCHIVE, "cs", TB | DEF, 0},	 /* [TB] */

    /* Russian */
    {"Отправленные", ROLE_SENT, "ru", OL | TB | DEF, 0}, /* [MS] [TB] */
    {"Черновики", ROLE_DRAFTS, "ru", TB | DEF, 0},	 /* [TB] */
    {"Удаленные", ROLE_TRASH, "ru", OL | DEF, 0},	 /* [MS] */
    {"Удалённые", ROLE_TRASH, "ru", TB | DEF, 0},	 /* [TB] */
    {"Спам", ROLE_JUNK, "ru", TB | DEF, 0},		 /* [TB] */
    {"Архивы", ROLE_ARCHIVE, "ru", TB | DEF, 0},	 /* [TB] */

    /* Japanese */
    {"送信済みアイテム", ROLE_SENT, "ja", OL | DEF, 0},	 /* [OL] */
    {"送信済みトレイ", ROLE_SENT, "ja", TB | DEF, 0},	 /* [TB] */
    {"下書き", ROLE_DRAFTS, "ja", OL | TB | DEF, 0},	 /* [OL] [TB] */
    {"削除済みアイテム", ROLE_TRASH, "ja", OL | DEF, 0}, /* [OL] */
    {"ごみ箱", ROLE_TRASH, "ja", TB | DEF, 0},		 /* [TB] */
    {"迷惑メール", ROLE_JUNK, "ja", OL | TB | DEF, 0},	 /* [OL] [TB] */
    {"アーカイブ", ROLE_ARCHIVE, "ja", TB | DEF, 0},	 /* [TB] */

    /* Chinese (Simplified) */
    {"已发送邮件", ROLE_SENT, "zh", OL | DEF, 0},   /* [OL] */
    {"已发送消息", ROLE_SENT, "zh", TB | DEF, 0},   /* [TB] */
    {"草稿", ROLE_DRAFTS, "zh", OL | TB | DEF, 0},  /* [OL] [TB] */
    {"已删除邮件", ROLE_TRASH, "zh", OL | DEF, 0},  /* [OL] */
    {"废件箱", ROLE_TRASH, "zh", TB | DEF, 0},	    /* [TB] */
    {"垃圾电子邮件", ROLE_JUNK, "zh", OL | DEF, 0}, /* [OL] */
    {"垃圾", ROLE_JUNK, "zh", TB | DEF, 0},	    /* [TB] */
    {"归档", ROLE_ARCHIVE, "zh", TB | DEF, 0},	    /* [TB] */
};

const size_t role_known_count = sizeof(role_known_names) / sizeof(role_known_names[0]);
