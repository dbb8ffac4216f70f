/*
 * rulec import: the command line.
 *
 *   rulec import --from suricata|snort3 [--vars FILE] [--classification FILE]
 *                [--include-commented] [--report FILE] [--ruleset NAME]
 *                [--exact-only] [--no-check] [--quiet] RULES... -o OUT.yaml
 *
 * Exit status: 0 written (whatever share of the rules was imported); 1 a rules
 * file cannot be read or the output cannot be written or compiled; 2 usage.
 */
#ifndef RULEC_IMPORT_CMD_H
#define RULEC_IMPORT_CMD_H

#include <stdio.h>

/* argv holds the arguments after "import". */
int rulec_import(int argc, char **argv);
void rulec_import_usage(FILE *to);

#endif /* RULEC_IMPORT_CMD_H */
