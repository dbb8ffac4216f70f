/*
 * rulec import: rule variables ($HTTP_PORTS, $HOME_NET, ...), port and
 * address expressions of rule headers, and classtype priorities.
 *
 * Built-in variables are the defaults of the source engine: Suricata's
 * default suricata.yaml for --from suricata, Snort 3's snort_defaults.lua for
 * --from snort3.  A --vars file overrides or adds variables.
 */
#ifndef RULEC_IMPORT_VARS_H
#define RULEC_IMPORT_VARS_H

#include <stddef.h>
#include <stdint.h>

typedef struct imp_vars imp_vars;

imp_vars *imp_vars_new(int dialect);
void imp_vars_free(imp_vars *v);
/* Sets NAME (without '$') to VALUE. */
void imp_vars_set(imp_vars *v, const char *name, const char *value);
/* Loads "NAME VALUE" lines ('#' comments, optional '$' and ':' after the
 * name, optional quotes around the value).  Returns NULL, or a malloc'd message. */
char *imp_vars_load(imp_vars *v, const char *path);
const char *imp_vars_get(const imp_vars *v, const char *name);

/* A set of ports 0..65535. */
typedef struct imp_ports {
    uint8_t bits[65536 / 8];
} imp_ports;

/* Evaluates a header port expression (any, 80, 1024:, !80, [80,443], $VAR,
 * Snort 3 blank-separated lists).  Returns NULL, or a malloc'd message. */
char *imp_ports_eval(const imp_vars *v, const char *expr, imp_ports *out);
int imp_ports_is_any(const imp_ports *p);
int imp_ports_is_empty(const imp_ports *p);
void imp_ports_or(imp_ports *a, const imp_ports *b);
/* "80,443,8000-8100" (malloc'd) */
char *imp_ports_format(const imp_ports *p);

enum { IMP_ADDR_ANY = 0, IMP_ADDR_CONSTRAINT = 1, IMP_ADDR_NONE = 2 };
/* Whether an address expression, variables expanded, means any address, a
 * real constraint, or no address at all.  Returns NULL, or a malloc'd message. */
char *imp_addr_kind(const imp_vars *v, const char *expr, int *kind);

/* Classtype priorities: the built-in table of common classtypes, or a
 * classification.config ("config classification: NAME,DESCRIPTION,PRIORITY"). */
typedef struct imp_classes imp_classes;
imp_classes *imp_classes_builtin(void);
char *imp_classes_load(imp_classes *c, const char *path);
void imp_classes_free(imp_classes *c);
/* Priority of a classtype, -1 when unknown. */
int imp_class_priority(const imp_classes *c, const char *name);

#endif /* RULEC_IMPORT_VARS_H */
