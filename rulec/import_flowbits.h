/* Flowbits across imported rules: what one rule's meaning owes the others. */
#ifndef RULEC_IMPORT_FLOWBITS_H
#define RULEC_IMPORT_FLOWBITS_H

#include <stddef.h>

#include "import_rule.h"

/* Before the compile check: rejects what the rule language refuses, with
 * the reason (a rule with flowbits on both the stream and HTTP buffers; a
 * check of a bit that a rule of the other kind changes in the same
 * direction). */
void imp_flowbits_kinds(imp_rule *rules, size_t n);

/* After the compile check: a rule that checks a bit is changed when a rule
 * that changes that bit was not imported, or was imported changed (the
 * source would set it where the import does not, or otherwise).  With
 * exact_only such a rule is rejected instead, until nothing moves. */
void imp_flowbits_setters(imp_rule *rules, size_t n, int exact_only);

#endif
