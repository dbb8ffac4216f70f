/* A minimal streaming JSON writer for the command-line tools (one line per
 * document, commas placed automatically). */
#ifndef VP_JSON_OUT_H
#define VP_JSON_OUT_H

#include <stdint.h>
#include <stdio.h>

typedef struct json_out {
    FILE *f;
    int depth;
    int need_comma[32];
    int after_key;
} json_out;

void json_init(json_out *j, FILE *f);
void json_begin_object(json_out *j);
void json_end_object(json_out *j);
void json_begin_array(json_out *j);
void json_end_array(json_out *j);
void json_key(json_out *j, const char *key);
void json_string(json_out *j, const char *s);
void json_uint(json_out *j, uint64_t v);
void json_double(json_out *j, double v);
void json_bool(json_out *j, int v);
void json_null(json_out *j);

#endif
