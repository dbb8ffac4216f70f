/*
 * rulec import: tokenizer and parser of Suricata / Snort 3 rule text.
 *
 * A rule file is read line by line; a line ending in a backslash continues on
 * the next one.  `#` starts a comment; a comment that holds a whole rule
 * ("#alert tcp ... (...; sid:1;)") is returned as a commented-out rule.  Each
 * rule is split into its header tokens and its options (name[:value];).  The
 * parser is tolerant: syntax defects become issues of the rule, never a crash.
 */
#ifndef RULEC_IMPORT_LEX_H
#define RULEC_IMPORT_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "import_rule.h"

/* Reads every rule (commented-out ones included, flagged) of a file.
 * Returns 0, or -1 when the file cannot be read (errno set). */
int imp_lex_file(const char *path, imp_raw **rules, size_t *n);
/* Same on text held in memory; `name` is recorded as the rules' file. */
void imp_lex_text(const char *name, const char *text, size_t len, imp_raw **rules, size_t *n);
/* Parses one rule (without a leading '#') into r. */
void imp_lex_rule(const char *text, imp_raw *r);

/* ---- option values */

/* The text of a quoted value with \" \\ \; \: resolved (the value itself when
 * it is not quoted). */
char *imp_unquote(const char *v);
/* Splits v at commas outside quotes; items are trimmed copies. */
void imp_split_commas(const char *v, char ***items, size_t *n);
/* Splits v at blanks; items are copies. */
void imp_split_blanks(const char *v, char ***items, size_t *n);

/* Reads a content value: [!]"text with |hex| and escapes" followed, for
 * Snort 3, by ",sub-option,...".  Fills bytes/len and *negated; *rest gets the
 * text after the closing quote (may be ""), or NULL.  Returns NULL on success,
 * else a message (static string). */
const char *imp_parse_content(const char *v, int *negated, uint8_t **bytes, size_t *len,
                              char **rest);
/* Reads a pcre value: [!]"/pattern/flags" (also Snort 3 ",..." after it is
 * refused).  *pattern and *flags are malloc'd.  NULL on success, else a message. */
const char *imp_parse_pcre(const char *v, int *negated, char **pattern, char **flags);

/* Parses a decimal integer (optionally signed); 0 on success. */
int imp_parse_int(const char *s, int64_t *out);

#endif /* RULEC_IMPORT_LEX_H */
