/*
 * specialuse.h - RFC 6154 special-use folder attributes (and RFC 8457
 * \Important) as a bitmask, shared by the IMAP layer (LIST), the rules
 * (--exclude-special) and the stores (special-use mapping).  Parsing and
 * formatting live in rules.h: rules_special_use_from_attr(),
 * rules_special_use_attr(), rules_special_use_format().
 */
#ifndef MS_SPECIALUSE_H
#define MS_SPECIALUSE_H

#define SU_ALL (1u << 0)
#define SU_ARCHIVE (1u << 1)
#define SU_DRAFTS (1u << 2)
#define SU_FLAGGED (1u << 3)
#define SU_JUNK (1u << 4)
#define SU_SENT (1u << 5)
#define SU_TRASH (1u << 6)
#define SU_IMPORTANT (1u << 7)

#endif
