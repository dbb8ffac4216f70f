/*
 * rulec import: the report (one TSV row per rule and issue) and the summary.
 *
 * Report columns: file, line, sid, status, level, keyword, reason.
 *   status  exact | changed | not-imported | commented  (of the rule)
 *   level   -      | note | changed | reject            (of the row's issue)
 * A rule imported exactly without remarks has one row with level "-".
 */
#ifndef RULEC_IMPORT_REPORT_H
#define RULEC_IMPORT_REPORT_H

#include <stdio.h>

#include "import_rule.h"

typedef struct imp_summary {
    size_t read;            /* rules read (enabled + commented) */
    size_t commented;       /* commented out and skipped */
    size_t exact;           /* imported, exact meaning */
    size_t address_only;    /* imported, only address constraints ignored */
    size_t changed;         /* imported, other changes */
    size_t rejected;        /* not imported */
    size_t http;            /* imported rules that use HTTP buffers */
    size_t http_pending;    /* ... compiled as stream rules (engine lacks the buffers) */
} imp_summary;

/* Status word of a rule as the report writes it. */
const char *imp_rule_status(const imp_rule *r);

void imp_summarize(const imp_rule *rules, size_t n, imp_summary *s);

/* Writes the report; returns 0 or -1 (errno). */
int imp_report_write(const char *path, const imp_rule *rules, size_t n);

/* Human summary with the top keywords of changed and refused rules. */
void imp_summary_print(FILE *to, const imp_summary *s, const imp_rule *rules, size_t n,
                       size_t top);

#endif /* RULEC_IMPORT_REPORT_H */
