#include "json_out.h"

#include <inttypes.h>

void json_init(json_out *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->need_comma[0] = 0;
    j->after_key = 0;
}

/* Separates values: a comma unless first in its container or after a key. */
static void value_start(json_out *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->need_comma[j->depth])
        fputc(',', j->f);
    j->need_comma[j->depth] = 1;
}

static void open_container(json_out *j, char c)
{
    value_start(j);
    fputc(c, j->f);
    if (j->depth < 31)
        j->depth++;
    j->need_comma[j->depth] = 0;
}

static void close_container(json_out *j, char c)
{
    fputc(c, j->f);
    if (j->depth > 0)
        j->depth--;
}

void json_begin_object(json_out *j) { open_container(j, '{'); }
void json_end_object(json_out *j) { close_container(j, '}'); }
void json_begin_array(json_out *j) { open_container(j, '['); }
void json_end_array(json_out *j) { close_container(j, ']'); }

static void write_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void json_key(json_out *j, const char *key)
{
    value_start(j);
    write_escaped(j->f, key);
    fputc(':', j->f);
    j->after_key = 1;
}

void json_string(json_out *j, const char *s)
{
    value_start(j);
    write_escaped(j->f, s ? s : "");
}

void json_uint(json_out *j, uint64_t v)
{
    value_start(j);
    fprintf(j->f, "%" PRIu64, v);
}

void json_double(json_out *j, double v)
{
    value_start(j);
    fprintf(j->f, "%.1f", v);
}

void json_bool(json_out *j, int v)
{
    value_start(j);
    fputs(v ? "true" : "false", j->f);
}

void json_null(json_out *j)
{
    value_start(j);
    fputs("null", j->f);
}
