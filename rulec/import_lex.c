/*
 * rulec import: tokenizer and parser of Suricata / Snort 3 rule text.
 * See import_lex.h.
 */
#include "import_lex.h"

#include "../lib/common/hex.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const actions[] = {
    "alert", "drop", "reject", "rejectsrc", "rejectdst", "rejectboth", "pass", "sdrop",
    "log", "block", "react", "rewrite", "activate", "dynamic", NULL,
};

static int is_action(const char *s, size_t n)
{
    for (size_t i = 0; actions[i]; i++)
        if (strlen(actions[i]) == n && strncmp(actions[i], s, n) == 0)
            return 1;
    return 0;
}

static int is_blank_c(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static char *trim_copy(const char *s, size_t n)
{
    while (n && is_blank_c((unsigned char)*s))
        s++, n--;
    while (n && is_blank_c((unsigned char)s[n - 1]))
        n--;
    return imp_xstrndup(s, n);
}

/* A comment that holds a whole rule: an action word, a '(' and a sid. */
static int looks_like_rule(const char *s)
{
    size_t w = 0;
    while (s[w] && (isalpha((unsigned char)s[w])))
        w++;
    if (!w || !is_action(s, w) || !is_blank_c((unsigned char)s[w]))
        return 0;
    const char *paren = strchr(s, '(');
    return paren && strstr(paren, "sid") && strchr(paren, ')');
}

/* ------------------------------------------------------------ header */

/* Next header token (bracket-aware) starting at *p; NULL at '(' or end. */
static char *header_token(const char **p)
{
    const char *s = *p;
    while (*s && is_blank_c((unsigned char)*s))
        s++;
    if (!*s || *s == '(') {
        *p = s;
        return NULL;
    }
    const char *start = s;
    int depth = 0;
    while (*s) {
        if (*s == '[')
            depth++;
        else if (*s == ']' && depth > 0)
            depth--;
        else if (depth == 0 && (is_blank_c((unsigned char)*s) || *s == '('))
            break;
        s++;
    }
    *p = s;
    return imp_xstrndup(start, (size_t)(s - start));
}

/* ------------------------------------------------------------ options */

static void add_opt(imp_raw *r, char *name, char *value, int malformed)
{
    r->opts = imp_xrealloc(r->opts, (r->n_opts + 1) * sizeof(imp_opt));
    r->opts[r->n_opts].name = name;
    r->opts[r->n_opts].value = value;
    r->opts[r->n_opts].malformed = malformed;
    r->n_opts++;
}

/* End of an option value: the first ';' outside quotes (backslash escapes). */
static size_t value_end(const char *s, size_t i, size_t n, int *unterminated)
{
    int in_q = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {
            i += 2;
            continue;
        }
        if (c == '"')
            in_q = !in_q;
        else if (c == ';' && !in_q)
            break;
        i++;
    }
    *unterminated = in_q;
    return i;
}

static int name_char(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-';
}

static void parse_options(const char *s, size_t n, imp_raw *r)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_blank_c((unsigned char)s[i]) || s[i] == ';'))
            i++;
        if (i >= n)
            break;
        size_t ns = i;
        while (i < n && name_char((unsigned char)s[i]))
            i++;
        size_t ne = i;
        while (i < n && is_blank_c((unsigned char)s[i]))
            i++;
        int unterminated = 0;
        if (ne > ns && (i >= n || s[i] == ';')) {
            char *name = imp_xstrndup(s + ns, ne - ns);
            for (char *q = name; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            add_opt(r, name, NULL, 0);
            continue;
        }
        if (ne > ns && s[i] == ':') {
            size_t vs = i + 1;
            size_t ve = value_end(s, vs, n, &unterminated);
            char *name = imp_xstrndup(s + ns, ne - ns);
            for (char *q = name; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            if (unterminated)
                imp_issue_add(&r->issues, &r->n_issues, IMP_REJECT, "syntax",
                              "unterminated quoted value of option '%s'", name);
            add_opt(r, name, trim_copy(s + vs, ve - vs), 0);
            i = ve;
            continue;
        }
        /* Neither "name;" nor "name:value": keep the whole text up to the
         * next ';' so that the translator can decide and report it. */
        size_t ve = value_end(s, ns, n, &unterminated);
        add_opt(r, trim_copy(s + ns, ve - ns), NULL, 1);
        i = ve;
    }
}

void imp_lex_rule(const char *text, imp_raw *r)
{
    const char *p = text;
    char *tok[8];
    size_t nt = 0;
    char *t;
    while ((t = header_token(&p)) != NULL) {
        if (nt < 8)
            tok[nt++] = t;
        else
            free(t);
    }
    if (nt >= 1)
        r->action = tok[0];
    if (nt >= 2)
        r->proto = tok[1];
    if (nt == 7) {
        r->src = tok[2];
        r->sport = tok[3];
        r->dir = tok[4];
        r->dst = tok[5];
        r->dport = tok[6];
    } else {
        for (size_t k = 2; k < nt; k++)
            free(tok[k]);
        if (nt != 2)
            imp_issue_add(&r->issues, &r->n_issues, IMP_REJECT, "syntax",
                          "rule header has %zu fields, expected 7 (or 2 for a Snort 3 "
                          "service rule)",
                          nt);
    }
    if (*p != '(') {
        imp_issue_add(&r->issues, &r->n_issues, IMP_REJECT, "syntax",
                      "no '(' opening the rule options");
        return;
    }
    const char *body = p + 1;
    const char *close = strrchr(body, ')');
    if (!close) {
        imp_issue_add(&r->issues, &r->n_issues, IMP_REJECT, "syntax",
                      "no ')' closing the rule options");
        close = body + strlen(body);
    } else {
        const char *after = close + 1;
        while (*after && is_blank_c((unsigned char)*after))
            after++;
        if (*after)
            imp_issue_add(&r->issues, &r->n_issues, IMP_NOTE, "syntax",
                          "text after the closing ')' ignored: \"%s\"", after);
    }
    parse_options(body, (size_t)(close - body), r);
}

/* ------------------------------------------------------------ files */

static void push_rule(imp_raw **rules, size_t *n, const char *name, unsigned line,
                      const char *text, int commented)
{
    *rules = imp_xrealloc(*rules, (*n + 1) * sizeof(imp_raw));
    imp_raw *r = &(*rules)[*n];
    memset(r, 0, sizeof(*r));
    r->file = imp_xstrdup(name);
    r->line = line;
    r->commented = commented;
    r->text = imp_xstrdup(text);
    imp_lex_rule(text, r);
    (*n)++;
}

void imp_lex_text(const char *name, const char *text, size_t len, imp_raw **rules, size_t *n)
{
    imp_buf logical = {0};
    unsigned line = 0, first_line = 0;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        line++;
        size_t le = e;
        if (le > i && text[le - 1] == '\r')
            le--;
        if (logical.len == 0)
            first_line = line;
        /* a backslash at the end continues the rule on the next line */
        int cont = le > i && text[le - 1] == '\\';
        imp_buf_put(&logical, text + i, cont ? le - 1 - i : le - i);
        i = e < len ? e + 1 : e;
        if (cont && i < len)
            continue;
        char *l = trim_copy(logical.p ? logical.p : "", logical.len);
        logical.len = 0;
        if (logical.p)
            logical.p[0] = 0;
        if (!*l) {
            free(l);
            continue;
        }
        if (l[0] == '#') {
            const char *c = l;
            while (*c == '#' || is_blank_c((unsigned char)*c))
                c++;
            if (looks_like_rule(c))
                push_rule(rules, n, name, first_line, c, 1);
        } else {
            push_rule(rules, n, name, first_line, l, 0);
        }
        free(l);
    }
    imp_buf_free(&logical);
}

int imp_lex_file(const char *path, imp_raw **rules, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    imp_buf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        imp_buf_put(&b, chunk, got);
    int err = ferror(f);
    fclose(f);
    if (err) {
        imp_buf_free(&b);
        errno = EIO;
        return -1;
    }
    imp_lex_text(path, b.p ? b.p : "", b.len, rules, n);
    imp_buf_free(&b);
    return 0;
}

/* ------------------------------------------------------------ option values */

char *imp_unquote(const char *v)
{
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return trim_copy(v, n);
    imp_buf b = {0};
    imp_buf_puts(&b, "");
    for (size_t i = 1; i + 1 < n; i++) {
        if (v[i] == '\\' && i + 2 < n && strchr("\"\\;:", v[i + 1]))
            i++;
        imp_buf_putc(&b, v[i]);
    }
    return imp_buf_take(&b);
}

void imp_split_commas(const char *v, char ***items, size_t *n)
{
    size_t i = 0, len = strlen(v), start = 0;
    int in_q = 0;
    for (; i <= len; i++) {
        char c = v[i];
        if (c == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (c == '"')
            in_q = !in_q;
        if ((c == ',' && !in_q) || c == 0) {
            imp_strv_push(items, n, trim_copy(v + start, i - start));
            start = i + 1;
        }
    }
}

void imp_split_blanks(const char *v, char ***items, size_t *n)
{
    const char *s = v;
    for (;;) {
        while (*s && is_blank_c((unsigned char)*s))
            s++;
        if (!*s)
            break;
        const char *e = s;
        while (*e && !is_blank_c((unsigned char)*e))
            e++;
        imp_strv_push(items, n, imp_xstrndup(s, (size_t)(e - s)));
        s = e;
    }
}

const char *imp_parse_content(const char *v, int *negated, uint8_t **bytes, size_t *len,
                              char **rest)
{
    const char *s = v;
    *bytes = NULL;
    *len = 0;
    *rest = NULL;
    *negated = 0;
    while (is_blank_c((unsigned char)*s))
        s++;
    if (*s == '!') {
        *negated = 1;
        s++;
        while (is_blank_c((unsigned char)*s))
            s++;
    }
    if (*s != '"') {
        /* Suricata also reads an unquoted content (no Snort 3 sub-options then) */
        if (!*s)
            return "empty content";
        size_t n = strlen(s);
        while (n && is_blank_c((unsigned char)s[n - 1]))
            n--;
        char *quoted = imp_xprintf("\"%.*s\"", (int)n, s);
        int neg_inner;
        const char *err = imp_parse_content(quoted, &neg_inner, bytes, len, rest);
        free(quoted);
        if (!err && neg_inner) {
            free(*bytes);
            free(*rest);
            *bytes = NULL;
            *rest = NULL;
            return "content negated twice";
        }
        return err;
    }
    s++;
    imp_buf b = {0};
    int hex = 0, nib = -1;
    for (;; s++) {
        char c = *s;
        if (!c) {
            imp_buf_free(&b);
            return "unterminated content string";
        }
        if (hex) {
            if (c == '|') {
                if (nib >= 0) {
                    imp_buf_free(&b);
                    return "odd number of hex digits in |...|";
                }
                hex = 0;
            } else if (vp_hex_digit((unsigned char)c) >= 0) {
                if (nib < 0) {
                    nib = vp_hex_digit((unsigned char)c);
                } else {
                    imp_buf_putc(&b, (char)(nib << 4 | vp_hex_digit((unsigned char)c)));
                    nib = -1;
                }
            } else if (c == ' ' || c == '\t') {
                if (nib >= 0) {
                    imp_buf_free(&b);
                    return "blank inside a hex byte in |...|";
                }
            } else {
                imp_buf_free(&b);
                return "invalid character in |...| hex bytes";
            }
            continue;
        }
        if (c == '"')
            break;
        if (c == '|') {
            hex = 1;
            continue;
        }
        if (c == '\\') {
            if (!s[1]) {
                imp_buf_free(&b);
                return "unterminated content string";
            }
            s++;
            c = *s;
        }
        imp_buf_putc(&b, c);
    }
    s++; /* closing quote */
    while (is_blank_c((unsigned char)*s))
        s++;
    if (*s == ',') {
        s++;
    } else if (*s) {
        imp_buf_free(&b);
        return "unexpected text after the content string";
    }
    *rest = imp_xstrdup(s);
    *len = b.len;
    *bytes = (uint8_t *)imp_buf_take(&b);
    return NULL;
}

const char *imp_parse_pcre(const char *v, int *negated, char **pattern, char **flags)
{
    const char *s = v;
    *pattern = *flags = NULL;
    *negated = 0;
    while (is_blank_c((unsigned char)*s))
        s++;
    if (*s == '!') {
        *negated = 1;
        s++;
        while (is_blank_c((unsigned char)*s))
            s++;
    }
    const char *q = NULL;
    if (*s == '"') {
        s++;
        /* closing quote: the last unescaped '"' */
        for (const char *t = s; *t; t++) {
            if (*t == '\\' && t[1]) {
                t++;
                continue;
            }
            if (*t == '"')
                q = t;
        }
        if (!q)
            return "unterminated pcre string";
        const char *after = q + 1;
        while (is_blank_c((unsigned char)*after))
            after++;
        if (*after)
            return "unexpected text after the pcre string";
    } else {
        /* Suricata also reads an unquoted /pattern/flags */
        q = s + strlen(s);
        while (q > s && is_blank_c((unsigned char)q[-1]))
            q--;
    }
    if (*s != '/')
        return "pcre must have the form \"/pattern/flags\"";
    const char *end = q;
    const char *slash = NULL;
    for (const char *t = q - 1; t > s; t--)
        if (*t == '/') {
            slash = t;
            break;
        }
    if (!slash)
        return "pcre has no closing '/'";
    for (const char *t = slash + 1; t < end; t++)
        if (!isalpha((unsigned char)*t))
            return "invalid pcre modifier";
    *pattern = imp_xstrndup(s + 1, (size_t)(slash - s - 1));
    *flags = imp_xstrndup(slash + 1, (size_t)(end - slash - 1));
    return NULL;
}

int imp_parse_int(const char *s, int64_t *out)
{
    while (is_blank_c((unsigned char)*s))
        s++;
    if (!*s)
        return -1;
    char *e;
    errno = 0;
    long long v = strtoll(s, &e, 10);
    if (errno || e == s)
        return -1;
    while (is_blank_c((unsigned char)*e))
        e++;
    if (*e)
        return -1;
    *out = v;
    return 0;
}
