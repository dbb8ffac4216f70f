/*
 * rulec import: proves that the imported rules compile, with the compiler
 * library itself.  A rule the compiler refuses is not imported (an issue
 * quotes the compiler's message); the others are then compiled again until
 * the whole set builds.
 *
 * While the engine refuses an HTTP buffer ("not supported yet"), the rules
 * that use it are checked with that buffer read as the raw stream: the rest
 * of the rule (regexes, limits) is still proved, and the YAML keeps the real
 * buffer so that it compiles as is once the engine has it.
 */
#ifndef RULEC_IMPORT_CHECK_H
#define RULEC_IMPORT_CHECK_H

#include <stddef.h>

#include "import_rule.h"

/* The HTTP buffers of the language this engine does not compile yet. */
void imp_check_unsupported_buffers(char ***names, size_t *n);

/* Compiles rules[i] for every i with imp_rule_level < IMP_REJECT; refused
 * rules get an IMP_REJECT issue.  Returns 0, or -1 with *fatal set (malloc'd)
 * when the set fails for a reason no single rule explains. */
int imp_check_rules(imp_rule *rules, size_t n, char *const *stream_buffers, size_t nsb,
                    unsigned *passes, char **fatal);

#endif /* RULEC_IMPORT_CHECK_H */
