/*
 * rulec import: YAML emitter.  See import_yaml.h.
 */
#include "import_yaml.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0)
        len = 2, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFEFF ||
        (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029)
        return 0;
    return len;
}

void imp_yaml_text(imp_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    imp_buf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            imp_buf_putc(b, '\\');
            imp_buf_putc(b, (char)c);
            i++;
        } else if (c >= 0x20 && c < 0x7f) {
            imp_buf_putc(b, (char)c);
            i++;
        } else if (c >= 0x80 && utf8_len(p + i, n - i) > 0) {
            size_t l = utf8_len(p + i, n - i);
            imp_buf_put(b, p + i, l);
            i += l;
        } else {
            imp_buf_printf(b, "\\x%02x", c);
            i++;
        }
    }
    imp_buf_putc(b, '"');
}

/* Content bytes: \xHH is the byte HH for the rule compiler. */
static void yaml_bytes(imp_buf *b, const uint8_t *s, size_t n)
{
    imp_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            imp_buf_putc(b, '\\');
            imp_buf_putc(b, (char)c);
        } else if (c >= 0x20 && c < 0x7f) {
            imp_buf_putc(b, (char)c);
        } else if (c == '\r') {
            imp_buf_puts(b, "\\r");
        } else if (c == '\n') {
            imp_buf_puts(b, "\\n");
        } else if (c == '\t') {
            imp_buf_puts(b, "\\t");
        } else {
            imp_buf_printf(b, "\\x%02x", c);
        }
    }
    imp_buf_putc(b, '"');
}

static int mostly_binary(const uint8_t *s, size_t n)
{
    size_t bin = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] >= 0x7f)
            bin++;
    return bin * 2 > n;
}

static void yaml_hex(imp_buf *b, const uint8_t *s, size_t n)
{
    imp_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++)
        imp_buf_printf(b, i ? " %02x" : "%02x", s[i]);
    imp_buf_putc(b, '"');
}

/* A regex as the regex compiler must receive it.  Bytes outside printable
 * ASCII become the regex escape \xHH (the same byte for the compiler), except
 * blanks under the x flag, which then need a double-quoted YAML string. */
static void yaml_regex(imp_buf *b, const uint8_t *s, size_t n, int extended)
{
    int dq = 0;
    for (size_t i = 0; i < n; i++)
        if (extended && (s[i] == '\n' || s[i] == '\r' || s[i] == '\t' || s[i] == '\v' ||
                         s[i] == '\f'))
            dq = 1;
    imp_buf_putc(b, dq ? '"' : '\'');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        /* "\" before a raw byte escapes that byte: the byte alone means the same */
        if (c == '\\' && i + 1 < n && (s[i + 1] < 0x20 || s[i + 1] >= 0x7f)) {
            if (!dq || !(extended && (s[i + 1] == '\n' || s[i + 1] == '\r' || s[i + 1] == '\t' ||
                                      s[i + 1] == '\v' || s[i + 1] == '\f')))
                continue;
        }
        if (c == '\\' && i + 1 < n) {
            /* copy an escape pair as it is */
            if (dq)
                imp_buf_puts(b, "\\\\");
            else
                imp_buf_putc(b, '\\');
            i++;
            c = s[i];
            if (c >= 0x20 && c < 0x7f) {
                if (dq && (c == '"' || c == '\\'))
                    imp_buf_putc(b, '\\');
                if (!dq && c == '\'')
                    imp_buf_putc(b, '\'');
                imp_buf_putc(b, (char)c);
                continue;
            }
            /* an escaped blank under x in a double-quoted string */
        }
        if (dq) {
            if (c == '"' || c == '\\') {
                imp_buf_putc(b, '\\');
                imp_buf_putc(b, (char)c);
            } else if (c == '\n') {
                imp_buf_puts(b, "\\n");
            } else if (c == '\r') {
                imp_buf_puts(b, "\\r");
            } else if (c == '\t') {
                imp_buf_puts(b, "\\t");
            } else if (c == '\v') {
                imp_buf_puts(b, "\\v");
            } else if (c == '\f') {
                imp_buf_puts(b, "\\f");
            } else if (c >= 0x20 && c < 0x7f) {
                imp_buf_putc(b, (char)c);
            } else {
                imp_buf_printf(b, "\\\\x%02x", c);
            }
        } else if (c == '\'') {
            imp_buf_puts(b, "''");
        } else if (c >= 0x20 && c < 0x7f) {
            imp_buf_putc(b, (char)c);
        } else {
            imp_buf_printf(b, "\\x%02x", c);
        }
    }
    imp_buf_putc(b, dq ? '"' : '\'');
}

void imp_yaml_begin(imp_buf *b, const char *ruleset, const char *dialect, size_t n_rules)
{
    imp_buf_printf(b, "# Imported by `rulec import --from %s`.  Each rule keeps its source in\n"
                      "# x-source; x-import says whether its meaning is exact or changed (the\n"
                      "# report lists every change and every rule not imported).\n",
                   dialect);
    imp_buf_puts(b, "format: 1\n");
    if (ruleset) {
        imp_buf_puts(b, "ruleset: ");
        imp_yaml_text(b, ruleset);
        imp_buf_putc(b, '\n');
    }
    imp_buf_printf(b, "x-imported-from: %s\n", dialect);
    imp_buf_puts(b, n_rules ? "rules:\n" : "rules: []\n");
}

static const char *dir_name(int d)
{
    switch (d) {
    case IMP_DIR_TO_CLIENT: return "to_client";
    case IMP_DIR_ANY: return "any";
    default: return "to_server";
    }
}

static int in_set(char *const *set, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(set[i], s) == 0)
            return 1;
    return 0;
}

/* An inline group with the x flag, "(?x:" or "(?ix:": a merged relative pcre
 * (import_xlate.c) keeps the flags of each part in such groups. */
static int has_extended_group(const char *s)
{
    for (const char *p = strstr(s, "(?"); p; p = strstr(p + 2, "(?")) {
        const char *q = p + 2;
        int x = 0;
        while (*q >= 'a' && *q <= 'z')
            x |= *q++ == 'x';
        if (x && *q == ':')
            return 1;
    }
    return 0;
}

static void yaml_cond(imp_buf *b, const imp_cond *c, char *const *stream_buffers, size_t nsb)
{
    const char *ind = "        ";
    if (c->is_jump) {
        imp_buf_printf(b, "      - byte_jump: {bytes: %d", c->bj_bytes);
        if (c->bj_little)
            imp_buf_puts(b, ", endian: little");
        if (c->bj_mult != 1)
            imp_buf_printf(b, ", multiplier: %lld", (long long)c->bj_mult);
        if (c->bj_align)
            imp_buf_puts(b, ", align: true");
        if (c->bj_post)
            imp_buf_printf(b, ", post_offset: %lld", (long long)c->bj_post);
        imp_buf_puts(b, "}\n");
    } else if (c->is_bytetest) {
        imp_buf_printf(b, "      - byte_test: {bytes: %d, op: \"%s\", value: %" PRIu64 "%s}\n",
                       c->bt_bytes, c->bt_op, c->bt_value, c->bt_little ? ", endian: little" : "");
    } else if (c->is_dataat) {
        /* no window fields: negate and buffer below are all it takes */
        imp_buf_printf(b, "      - isdataat: %" PRId64 "\n", c->dataat);
        if (c->relative)
            imp_buf_printf(b, "%srelative: true\n", ind);
    } else if (c->is_regex) {
        imp_buf_puts(b, "      - regex: ");
        yaml_regex(b, c->bytes, c->len,
                   strchr(c->flags, 'x') != NULL || has_extended_group((const char *)c->bytes));
        imp_buf_putc(b, '\n');
        if (c->flags[0])
            imp_buf_printf(b, "%sflags: %s\n", ind, c->flags);
    } else if (mostly_binary(c->bytes, c->len)) {
        imp_buf_puts(b, "      - hex: ");
        yaml_hex(b, c->bytes, c->len);
        imp_buf_putc(b, '\n');
    } else {
        imp_buf_puts(b, "      - content: ");
        yaml_bytes(b, c->bytes, c->len);
        imp_buf_putc(b, '\n');
    }
    if (c->nocase && !c->is_regex)
        imp_buf_printf(b, "%snocase: true\n", ind);
    if (c->has_offset)
        imp_buf_printf(b, "%soffset: %" PRId64 "\n", ind, c->offset);
    if (c->has_depth)
        imp_buf_printf(b, "%sdepth: %" PRId64 "\n", ind, c->depth);
    if (c->has_distance)
        imp_buf_printf(b, "%sdistance: %" PRId64 "\n", ind, c->distance);
    if (c->has_within)
        imp_buf_printf(b, "%swithin: %" PRId64 "\n", ind, c->within);
    if (c->negate)
        imp_buf_printf(b, "%snegate: true\n", ind);
    if (c->endswith)
        imp_buf_printf(b, "%sendswith: true\n", ind);
    if (c->buffer && !in_set(stream_buffers, nsb, c->buffer))
        imp_buf_printf(b, "%sbuffer: %s\n", ind, c->buffer);
}

static void yaml_list(imp_buf *b, const char *key, char *const *v, size_t n)
{
    if (!n)
        return;
    imp_buf_printf(b, "    %s:\n", key);
    for (size_t i = 0; i < n; i++) {
        imp_buf_puts(b, "      - ");
        imp_yaml_text(b, v[i]);
        imp_buf_putc(b, '\n');
    }
}

void imp_yaml_rule(imp_buf *b, const imp_rule *r, int mode, char *const *stream_buffers,
                   size_t nsb)
{
    imp_buf_printf(b, "  - id: %" PRIu32 "\n", r->sid);
    imp_buf_puts(b, "    name: ");
    imp_yaml_text(b, r->msg ? r->msg : "");
    imp_buf_putc(b, '\n');
    if (mode == IMP_Y_FULL) {
        if (r->n_cves) {
            imp_buf_puts(b, "    cve: [");
            for (size_t i = 0; i < r->n_cves; i++)
                imp_buf_printf(b, "%s%s", i ? ", " : "", r->cves[i]);
            imp_buf_puts(b, "]\n");
        }
        yaml_list(b, "references", r->refs, r->n_refs);
    }
    imp_buf_printf(b, "    severity: %s\n", r->severity);
    if (r->performance)
        imp_buf_puts(b, "    modes: [performance, security]\n");
    imp_buf_printf(b, "    action: %s\n", r->block ? "block" : "detect");
    imp_buf_printf(b, "    protocol: %s\n", r->udp ? "udp" : "tcp");
    if (r->ports)
        imp_buf_printf(b, "    ports: \"%s\"\n", r->ports);
    else
        imp_buf_puts(b, "    ports: any\n");
    imp_buf_printf(b, "    direction: %s\n", dir_name(r->direction));
    if (r->service_http)
        imp_buf_puts(b, "    service: http\n");
    if (r->n_flowbits) {
        static const char *const ops[] = {"", "set", "unset", "toggle", "isset", "isnotset"};
        imp_buf_puts(b, "    flowbits: [");
        for (size_t i = 0; i < r->n_flowbits; i++) {
            imp_buf_printf(b, "%s{%s: ", i ? ", " : "", ops[r->flowbits[i].op]);
            imp_yaml_text(b, r->flowbits[i].name);
            imp_buf_putc(b, '}');
        }
        imp_buf_puts(b, "]\n");
    }
    if (r->noalert)
        imp_buf_puts(b, "    noalert: true\n");
    if (r->th_type)
        imp_buf_printf(b, "    threshold: {type: %s, track: %s, count: %" PRIu32 ", seconds: %" PRIu32
                          "}\n", r->th_type, r->th_track, r->th_count, r->th_seconds);
    imp_buf_puts(b, "    match:\n");
    for (size_t i = 0; i < r->n_conds; i++)
        yaml_cond(b, &r->conds[i], stream_buffers, nsb);
    if (mode != IMP_Y_FULL)
        return;
    imp_buf_printf(b, "    x-sid: %" PRIu32 "\n", r->sid);
    if (r->has_rev)
        imp_buf_printf(b, "    x-rev: %" PRIu32 "\n", r->rev);
    if (r->gid != 1)
        imp_buf_printf(b, "    x-gid: %" PRIu32 "\n", r->gid);
    if (r->classtype && *r->classtype) {
        imp_buf_puts(b, "    x-classtype: ");
        imp_yaml_text(b, r->classtype);
        imp_buf_putc(b, '\n');
    }
    if (r->service) {
        imp_buf_puts(b, "    x-service: ");
        imp_yaml_text(b, r->service);
        imp_buf_putc(b, '\n');
    }
    int level = imp_rule_level(r);
    imp_buf_printf(b, "    x-import: %s\n", level == IMP_CHANGED ? "changed" : "exact");
    size_t notes = 0;
    for (size_t i = 0; i < r->n_issues; i++)
        if (r->issues[i].level != IMP_REJECT)
            notes++;
    if (notes) {
        imp_buf_puts(b, "    x-import-notes:\n");
        for (size_t i = 0; i < r->n_issues; i++) {
            const imp_issue *is = &r->issues[i];
            if (is->level == IMP_REJECT)
                continue;
            char *line = imp_xprintf("%s %s: %s", is->level == IMP_CHANGED ? "changed" : "note",
                                     is->keyword, is->reason);
            imp_buf_puts(b, "      - ");
            imp_yaml_text(b, line);
            imp_buf_putc(b, '\n');
            free(line);
        }
    }
    imp_buf_puts(b, "    x-source: ");
    imp_yaml_text(b, r->text ? r->text : "");
    imp_buf_putc(b, '\n');
}
