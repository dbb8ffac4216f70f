/*
 * rulec import: the data every stage of the importer shares.
 *
 *   import_lex     rule text  -> imp_raw (header tokens + option list)
 *   import_xlate   imp_raw    -> imp_rule (rule of the YAML language + issues)
 *   import_yaml    imp_rule   -> YAML text
 *   import_check   YAML text  -> compiler verdict per rule
 *   import_report  imp_rule   -> report.tsv + summary
 *
 * An issue says why a rule is not imported (IMP_REJECT), imported with a
 * meaning that differs from the original (IMP_CHANGED), or carries a remark
 * that does not change the meaning (IMP_NOTE).  Nothing is dropped without an
 * issue.
 */
#ifndef RULEC_IMPORT_RULE_H
#define RULEC_IMPORT_RULE_H

#include <stddef.h>
#include <stdint.h>

enum imp_dialect { IMP_SURICATA = 1, IMP_SNORT3 = 2 };

enum imp_level { IMP_NOTE = 0, IMP_CHANGED = 1, IMP_REJECT = 2 };

typedef struct imp_issue {
    int level;
    char *keyword;
    char *reason;
} imp_issue;

/* Growable byte/char buffer; every string it builds stays NUL-terminated. */
typedef struct imp_buf {
    char *p;
    size_t len, cap;
} imp_buf;

void imp_buf_put(imp_buf *b, const void *data, size_t n);
void imp_buf_puts(imp_buf *b, const char *s);
void imp_buf_putc(imp_buf *b, char c);
void imp_buf_printf(imp_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Hands over the string (never NULL) and resets the buffer. */
char *imp_buf_take(imp_buf *b);
void imp_buf_free(imp_buf *b);

void *imp_xmalloc(size_t n);
void *imp_xcalloc(size_t n, size_t size);
void *imp_xrealloc(void *p, size_t n);
char *imp_xstrdup(const char *s);
char *imp_xstrndup(const char *s, size_t n);
char *imp_xprintf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Appends to a growable array of pointers (NULL-safe, aborts on OOM). */
void imp_strv_push(char ***v, size_t *n, char *s);
void imp_strv_free(char **v, size_t n);
int imp_strv_has(char *const *v, size_t n, const char *s);

/* ------------------------------------------------------------ raw rule */

typedef struct imp_opt {
    char *name;  /* keyword, lower case as written */
    char *value; /* text after ':', trimmed; NULL when the option has none */
    int malformed; /* the tokenizer could not read it as name[:value]; */
} imp_opt;

typedef struct imp_raw {
    char *file;
    unsigned line;  /* first line of the rule in its file */
    int commented;  /* the rule was commented out in the file */
    char *text;     /* the rule as written (continuation lines joined) */
    /* header */
    char *action, *proto, *src, *sport, *dir, *dst, *dport; /* NULL when absent */
    imp_opt *opts;
    size_t n_opts;
    /* problems the tokenizer found (syntax) */
    imp_issue *issues;
    size_t n_issues;
} imp_raw;

/* ------------------------------------------------------------ translated rule */

enum imp_dir { IMP_DIR_UNSET = 0, IMP_DIR_TO_SERVER, IMP_DIR_TO_CLIENT, IMP_DIR_ANY };

typedef struct imp_cond {
    int is_regex;
    uint8_t *bytes; /* content bytes, or the regex text (NUL-terminated) */
    size_t len;
    char flags[8];  /* regex flags from i s m x */
    int nocase, negate;
    int has_offset, has_depth, has_distance, has_within;
    int64_t offset, depth, distance, within;
    const char *buffer;  /* buffer of the language; NULL = stream */
    /* translation state */
    const char *src_buffer; /* buffer name as the source rule gave it (for messages) */
    int relative;       /* relative to the previous match in its buffer */
    int after_switch;   /* Snort 3: first condition after a buffer was selected */
    int startswith;
    int endswith;       /* the match must end the buffer */
    int is_dataat;      /* isdataat (also from bsize, urilen, dsize, bufferlen): a byte at
                           `dataat` (absolute) or at E + dataat (relative) */
    int64_t dataat;
    /* byte_test: bt_bytes at bt_off (from E when relative, else from the
     * buffer start), compared by bt_op (the rule language's operator names) */
    int is_bytetest, bt_bytes, bt_little;
    const char *bt_op;
    uint64_t bt_value;
    int64_t bt_off;
    /* byte_jump: bj_bytes at bj_off (from E; relative only), the next
     * relative condition counting from the end of those bytes + value *
     * bj_mult (aligned) + bj_post */
    int is_jump, bj_bytes, bj_little, bj_align;
    int64_t bj_off, bj_mult, bj_post;
    int keyword_index;  /* option index, for messages */
} imp_cond;

/* Flowbit operations, as the rule language names them (rule-format.md). */
enum imp_fb_op { IMP_FB_SET = 1, IMP_FB_UNSET, IMP_FB_TOGGLE, IMP_FB_ISSET, IMP_FB_ISNOTSET };

typedef struct imp_flowbit {
    int op;            /* enum imp_fb_op */
    char *name;
} imp_flowbit;

typedef struct imp_rule {
    const char *file;
    unsigned line;
    const char *text;
    int commented;
    int skipped;       /* commented out and not imported (no --include-commented) */
    uint32_t sid, rev, gid;
    int has_sid, has_rev;
    char *msg;
    int block;         /* 1 block, 0 detect */
    int udp;           /* 1 udp, 0 tcp */
    char *ports;       /* NULL: any */
    int direction;     /* enum imp_dir */
    char **cves;
    size_t n_cves;
    char **refs;
    size_t n_refs;
    const char *severity;
    int performance;   /* modes: performance (+ security) */
    char *classtype;
    char *service;     /* application protocol (header or service:) */
    int service_http;  /* written as `service: http` (raw-stream HTTP rules) */
    imp_flowbit *flowbits; /* in source order; kept for rules not imported too */
    size_t n_flowbits;
    int noalert;
    /* threshold/detection_filter, as the rule language names them; type
     * NULL when the rule has none (static strings) */
    const char *th_type, *th_track;
    uint32_t th_count, th_seconds;
    int th_seen;       /* threshold-like keywords in the source */
    imp_cond *conds;
    size_t n_conds;
    imp_issue *issues;
    size_t n_issues;
    int uses_http;     /* some condition inspects an HTTP buffer */
    int uses_raw;      /* some condition inspects the stream */
} imp_rule;

void imp_issue_add(imp_issue **v, size_t *n, int level, const char *keyword, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
void imp_issues_free(imp_issue *v, size_t n);

/* Highest level of the rule's issues (IMP_NOTE when none). */
int imp_rule_level(const imp_rule *r);
/* 1 when every IMP_CHANGED issue of the rule is about addresses only. */
int imp_rule_changed_only_by_address(const imp_rule *r);

void imp_raw_free(imp_raw *r);
void imp_rule_free(imp_rule *r);

/* Keyword used for issues about ignored address constraints. */
#define IMP_KW_ADDRESS "address"

#endif /* RULEC_IMPORT_RULE_H */
