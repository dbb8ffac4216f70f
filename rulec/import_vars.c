/*
 * rulec import: variables, port and address expressions, classtypes.
 * See import_vars.h.
 */
#include "import_vars.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_rule.h"

#define MAX_VAR_DEPTH 16

typedef struct var {
    char *name, *value;
} var;

struct imp_vars {
    var *v;
    size_t n;
};

/* Suricata 5 default suricata.yaml (vars: address-groups, port-groups). */
static const char *const suricata_defaults[][2] = {
    {"HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"},
    {"EXTERNAL_NET", "!$HOME_NET"},
    {"HTTP_SERVERS", "$HOME_NET"},
    {"SMTP_SERVERS", "$HOME_NET"},
    {"SQL_SERVERS", "$HOME_NET"},
    {"DNS_SERVERS", "$HOME_NET"},
    {"TELNET_SERVERS", "$HOME_NET"},
    {"AIM_SERVERS", "$EXTERNAL_NET"},
    {"DC_SERVERS", "$HOME_NET"},
    {"DNP3_SERVER", "$HOME_NET"},
    {"DNP3_CLIENT", "$HOME_NET"},
    {"MODBUS_CLIENT", "$HOME_NET"},
    {"MODBUS_SERVER", "$HOME_NET"},
    {"ENIP_CLIENT", "$HOME_NET"},
    {"ENIP_SERVER", "$HOME_NET"},
    {"HTTP_PORTS", "80"},
    {"SHELLCODE_PORTS", "!80"},
    {"ORACLE_PORTS", "1521"},
    {"SSH_PORTS", "22"},
    {"DNP3_PORTS", "20000"},
    {"MODBUS_PORTS", "502"},
    {"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"},
    {"FTP_PORTS", "21"},
    {"GENEVE_PORTS", "6081"},
    {"VXLAN_PORTS", "4789"},
    {"TEREDO_PORTS", "3544"},
    {"SIP_PORTS", "[5060,5061]"},
};

/* Snort 3 lua/snort_defaults.lua. */
static const char *const snort3_defaults[][2] = {
    {"HOME_NET", "any"},
    {"EXTERNAL_NET", "any"},
    {"DNS_SERVERS", "$HOME_NET"},
    {"SMTP_SERVERS", "$HOME_NET"},
    {"HTTP_SERVERS", "$HOME_NET"},
    {"SQL_SERVERS", "$HOME_NET"},
    {"TELNET_SERVERS", "$HOME_NET"},
    {"SSH_SERVERS", "$HOME_NET"},
    {"FTP_SERVERS", "$HOME_NET"},
    {"SIP_SERVERS", "$HOME_NET"},
    {"HTTP_PORTS",
     "80 81 311 383 591 593 901 1220 1414 1741 1830 2301 2381 2809 3037 3128 3702 4343 4848 "
     "5250 6988 7000 7001 7144 7145 7510 7777 7779 8000 8008 8014 8028 8080 8085 8088 8090 "
     "8118 8123 8180 8181 8243 8280 8300 8800 8888 8899 9000 9060 9080 9090 9091 9443 9999 "
     "11371 34443 34444 41080 50002 55555"},
    {"SHELLCODE_PORTS", "!80"},
    {"ORACLE_PORTS", "1024:"},
    {"SSH_PORTS", "22"},
    {"FTP_PORTS", "21 2100 3535"},
    {"SIP_PORTS", "5060 5061 5600"},
    {"MAIL_PORTS", "110 143"},
    {"FILE_DATA_PORTS", "$HTTP_PORTS 110 143"},
    {"GTP_PORTS", "2123 2152 3386"},
    {"RPC_PORTS", "111 32770 32771 32772 32773 32774 32775 32776 32777 32778 32779"},
};

imp_vars *imp_vars_new(int dialect)
{
    imp_vars *v = imp_xcalloc(1, sizeof(*v));
    if (dialect == IMP_SNORT3) {
        for (size_t i = 0; i < sizeof snort3_defaults / sizeof snort3_defaults[0]; i++)
            imp_vars_set(v, snort3_defaults[i][0], snort3_defaults[i][1]);
    } else {
        for (size_t i = 0; i < sizeof suricata_defaults / sizeof suricata_defaults[0]; i++)
            imp_vars_set(v, suricata_defaults[i][0], suricata_defaults[i][1]);
    }
    return v;
}

void imp_vars_free(imp_vars *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].name);
        free(v->v[i].value);
    }
    free(v->v);
    free(v);
}

void imp_vars_set(imp_vars *v, const char *name, const char *value)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].name, name) == 0) {
            free(v->v[i].value);
            v->v[i].value = imp_xstrdup(value);
            return;
        }
    v->v = imp_xrealloc(v->v, (v->n + 1) * sizeof(var));
    v->v[v->n].name = imp_xstrdup(name);
    v->v[v->n].value = imp_xstrdup(value);
    v->n++;
}

const char *imp_vars_get(const imp_vars *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].name, name) == 0)
            return v->v[i].value;
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

char *imp_vars_load(imp_vars *v, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return imp_xprintf("%s: %s", path, strerror(errno));
    char line[8192];
    unsigned ln = 0;
    char *err = NULL;
    while (!err && fgets(line, sizeof line, f)) {
        ln++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        if (*s == '$')
            s++;
        char *name = s;
        while (*s && (isalnum((unsigned char)*s) || *s == '_'))
            s++;
        size_t nlen = (size_t)(s - name);
        if (*s == ':')
            *s++ = ' ';
        if (!nlen || (*s && !isspace((unsigned char)*s))) {
            err = imp_xprintf("%s:%u: expected NAME VALUE", path, ln);
            break;
        }
        char *value = trim(s);
        name[nlen] = 0;
        size_t vl = strlen(value);
        if (vl >= 2 && ((value[0] == '"' && value[vl - 1] == '"') ||
                        (value[0] == '\'' && value[vl - 1] == '\''))) {
            value[vl - 1] = 0;
            value++;
        }
        if (!*value) {
            err = imp_xprintf("%s:%u: variable %s has no value", path, ln, name);
            break;
        }
        imp_vars_set(v, name, value);
    }
    fclose(f);
    return err;
}

/* ------------------------------------------------------------ list splitting */

/* Items of a list body: separated by ',' or blanks at bracket depth 0. */
static void split_items(const char *s, size_t n, char ***items, size_t *count)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ',' || isspace((unsigned char)s[i])))
            i++;
        if (i >= n)
            break;
        size_t start = i;
        int depth = 0;
        while (i < n) {
            if (s[i] == '[')
                depth++;
            else if (s[i] == ']')
                depth--;
            else if (depth == 0 && (s[i] == ',' || isspace((unsigned char)s[i])))
                break;
            i++;
        }
        /* "! 80" and "! [..]": keep the '!' with what follows */
        if (i - start == 1 && s[start] == '!') {
            while (i < n && isspace((unsigned char)s[i]))
                i++;
            int d = 0;
            while (i < n) {
                if (s[i] == '[')
                    d++;
                else if (s[i] == ']')
                    d--;
                else if (d == 0 && (s[i] == ',' || isspace((unsigned char)s[i])))
                    break;
                i++;
            }
        }
        imp_strv_push(items, count, imp_xstrndup(s + start, i - start));
    }
}

/* 1 when s (trimmed) is a list: brackets around it, or several items. */
static int is_list(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        int depth = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '[')
                depth++;
            else if (s[i] == ']' && --depth == 0 && i != n - 1)
                return 0; /* "[a],[b]" is two items */
        }
        return 1;
    }
    return 0;
}

static int has_separator(const char *s, size_t n)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '[')
            depth++;
        else if (s[i] == ']')
            depth--;
        else if (depth == 0 && (s[i] == ',' || isspace((unsigned char)s[i])))
            return 1;
    }
    return 0;
}

static void trim_span(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* ------------------------------------------------------------ ports */

static void ports_all(imp_ports *p)
{
    memset(p->bits, 0xff, sizeof p->bits);
}

static void ports_set_range(imp_ports *p, unsigned lo, unsigned hi)
{
    for (unsigned x = lo; x <= hi; x++)
        p->bits[x >> 3] |= (uint8_t)(1u << (x & 7));
}

static int ports_has(const imp_ports *p, unsigned x)
{
    return (p->bits[x >> 3] >> (x & 7)) & 1;
}

int imp_ports_is_any(const imp_ports *p)
{
    for (size_t i = 0; i < sizeof p->bits; i++)
        if (p->bits[i] != 0xff)
            return 0;
    return 1;
}

int imp_ports_is_empty(const imp_ports *p)
{
    for (size_t i = 0; i < sizeof p->bits; i++)
        if (p->bits[i])
            return 0;
    return 1;
}

void imp_ports_or(imp_ports *a, const imp_ports *b)
{
    for (size_t i = 0; i < sizeof a->bits; i++)
        a->bits[i] |= b->bits[i];
}

char *imp_ports_format(const imp_ports *p)
{
    imp_buf b = {0};
    imp_buf_puts(&b, "");
    unsigned x = 0;
    while (x <= 65535) {
        if (!ports_has(p, x)) {
            x++;
            continue;
        }
        unsigned lo = x;
        while (x + 1 <= 65535 && ports_has(p, x + 1))
            x++;
        if (b.len)
            imp_buf_putc(&b, ',');
        if (lo == x)
            imp_buf_printf(&b, "%u", lo);
        else
            imp_buf_printf(&b, "%u-%u", lo, x);
        x++;
    }
    return imp_buf_take(&b);
}

static int parse_port(const char *s, size_t n, unsigned *out)
{
    if (!n || n > 5)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *out = v;
    return 0;
}

static char *ports_eval(const imp_vars *v, const char *s, size_t n, imp_ports *out, int depth);

static char *ports_list(const imp_vars *v, const char *s, size_t n, imp_ports *out, int depth)
{
    char **items = NULL;
    size_t count = 0;
    split_items(s, n, &items, &count);
    imp_ports pos, neg, tmp;
    memset(&pos, 0, sizeof pos);
    memset(&neg, 0, sizeof neg);
    int have_pos = 0;
    char *err = NULL;
    for (size_t i = 0; i < count && !err; i++) {
        const char *it = items[i];
        if (it[0] == '!') {
            err = ports_eval(v, it + 1, strlen(it + 1), &tmp, depth + 1);
            if (!err)
                imp_ports_or(&neg, &tmp);
        } else {
            err = ports_eval(v, it, strlen(it), &tmp, depth + 1);
            if (!err) {
                imp_ports_or(&pos, &tmp);
                have_pos = 1;
            }
        }
    }
    imp_strv_free(items, count);
    if (err)
        return err;
    if (!count)
        return imp_xstrdup("empty port list");
    if (!have_pos)
        ports_all(&pos);
    for (size_t i = 0; i < sizeof pos.bits; i++)
        out->bits[i] = (uint8_t)(pos.bits[i] & ~neg.bits[i]);
    return NULL;
}

static char *ports_eval(const imp_vars *v, const char *s, size_t n, imp_ports *out, int depth)
{
    memset(out->bits, 0, sizeof out->bits);
    trim_span(&s, &n);
    if (depth > MAX_VAR_DEPTH)
        return imp_xstrdup("port variables nest too deep (a cycle?)");
    if (!n)
        return imp_xstrdup("empty port expression");
    if (s[0] == '!') {
        imp_ports inner;
        char *err = ports_eval(v, s + 1, n - 1, &inner, depth + 1);
        if (err)
            return err;
        for (size_t i = 0; i < sizeof out->bits; i++)
            out->bits[i] = (uint8_t)~inner.bits[i];
        return NULL;
    }
    if (is_list(s, n))
        return ports_list(v, s + 1, n - 2, out, depth);
    if (has_separator(s, n))
        return ports_list(v, s, n, out, depth);
    if (n == 3 && strncmp(s, "any", 3) == 0) {
        ports_all(out);
        return NULL;
    }
    if (s[0] == '$') {
        char *name = imp_xstrndup(s + 1, n - 1);
        const char *value = imp_vars_get(v, name);
        char *err = NULL;
        if (!value)
            err = imp_xprintf("undefined port variable $%s", name);
        else
            err = ports_eval(v, value, strlen(value), out, depth + 1);
        free(name);
        return err;
    }
    const char *colon = memchr(s, ':', n);
    unsigned lo = 0, hi = 65535;
    if (colon) {
        size_t ln = (size_t)(colon - s), hn = n - ln - 1;
        if ((ln && parse_port(s, ln, &lo)) || (hn && parse_port(colon + 1, hn, &hi)) ||
            (!ln && !hn) || lo > hi)
            return imp_xprintf("invalid port range \"%.*s\"", (int)n, s);
    } else if (parse_port(s, n, &lo)) {
        return imp_xprintf("invalid port \"%.*s\"", (int)n, s);
    } else {
        hi = lo;
    }
    ports_set_range(out, lo, hi);
    return NULL;
}

char *imp_ports_eval(const imp_vars *v, const char *expr, imp_ports *out)
{
    return ports_eval(v, expr, strlen(expr), out, 0);
}

/* ------------------------------------------------------------ addresses */

static char *addr_eval(const imp_vars *v, const char *s, size_t n, int *kind, int depth);

static int addr_not(int k)
{
    return k == IMP_ADDR_ANY ? IMP_ADDR_NONE : k == IMP_ADDR_NONE ? IMP_ADDR_ANY : k;
}

static char *addr_list(const imp_vars *v, const char *s, size_t n, int *kind, int depth)
{
    char **items = NULL;
    size_t count = 0;
    split_items(s, n, &items, &count);
    int pos = IMP_ADDR_NONE, neg = IMP_ADDR_NONE, have_pos = 0;
    char *err = NULL;
    for (size_t i = 0; i < count && !err; i++) {
        const char *it = items[i];
        int k;
        int negated = it[0] == '!';
        const char *body = negated ? it + 1 : it;
        err = addr_eval(v, body, strlen(body), &k, depth + 1);
        if (err)
            break;
        int *acc = negated ? &neg : &pos;
        if (!negated)
            have_pos = 1;
        if (k == IMP_ADDR_ANY || *acc == IMP_ADDR_ANY)
            *acc = IMP_ADDR_ANY;
        else if (k == IMP_ADDR_CONSTRAINT)
            *acc = IMP_ADDR_CONSTRAINT;
    }
    imp_strv_free(items, count);
    if (err)
        return err;
    if (!have_pos)
        pos = IMP_ADDR_ANY;
    if (neg == IMP_ADDR_NONE)
        *kind = pos;
    else if (neg == IMP_ADDR_ANY || pos == IMP_ADDR_NONE)
        *kind = IMP_ADDR_NONE;
    else
        *kind = IMP_ADDR_CONSTRAINT;
    return NULL;
}

static char *addr_eval(const imp_vars *v, const char *s, size_t n, int *kind, int depth)
{
    trim_span(&s, &n);
    if (depth > MAX_VAR_DEPTH)
        return imp_xstrdup("address variables nest too deep (a cycle?)");
    if (!n)
        return imp_xstrdup("empty address expression");
    if (s[0] == '!') {
        char *err = addr_eval(v, s + 1, n - 1, kind, depth + 1);
        if (!err)
            *kind = addr_not(*kind);
        return err;
    }
    if (is_list(s, n))
        return addr_list(v, s + 1, n - 2, kind, depth);
    if (has_separator(s, n))
        return addr_list(v, s, n, kind, depth);
    if ((n == 3 && strncmp(s, "any", 3) == 0) || (n == 9 && strncmp(s, "0.0.0.0/0", 9) == 0) ||
        (n == 4 && strncmp(s, "::/0", 4) == 0)) {
        *kind = IMP_ADDR_ANY;
        return NULL;
    }
    if (s[0] == '$') {
        char *name = imp_xstrndup(s + 1, n - 1);
        const char *value = imp_vars_get(v, name);
        char *err = NULL;
        if (!value)
            err = imp_xprintf("undefined address variable $%s", name);
        else
            err = addr_eval(v, value, strlen(value), kind, depth + 1);
        free(name);
        return err;
    }
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) && !strchr(".:/", s[i]))
            return imp_xprintf("invalid address \"%.*s\"", (int)n, s);
    *kind = IMP_ADDR_CONSTRAINT;
    return NULL;
}

char *imp_addr_kind(const imp_vars *v, const char *expr, int *kind)
{
    return addr_eval(v, expr, strlen(expr), kind, 0);
}

/* ------------------------------------------------------------ classtypes */

typedef struct cls {
    char *name;
    int priority;
} cls;

struct imp_classes {
    cls *v;
    size_t n;
};

/* The common classification.config shipped with Snort and Suricata (plus
 * the classtypes ET Open added). */
static const struct {
    const char *name;
    int priority;
} builtin_classes[] = {
    {"not-suspicious", 3}, {"unknown", 3}, {"bad-unknown", 2}, {"attempted-recon", 2},
    {"successful-recon-limited", 2}, {"successful-recon-largescale", 2}, {"attempted-dos", 2},
    {"successful-dos", 2}, {"attempted-user", 1}, {"unsuccessful-user", 1},
    {"successful-user", 1}, {"attempted-admin", 1}, {"successful-admin", 1},
    {"rpc-portmap-decode", 2}, {"shellcode-detect", 1}, {"string-detect", 3},
    {"suspicious-filename-detect", 2}, {"suspicious-login", 2}, {"system-call-detect", 2},
    {"tcp-connection", 4}, {"trojan-activity", 1}, {"unusual-client-port-connection", 2},
    {"network-scan", 3}, {"denial-of-service", 2}, {"non-standard-protocol", 2},
    {"protocol-command-decode", 3}, {"web-application-activity", 2},
    {"web-application-attack", 1}, {"misc-activity", 3}, {"misc-attack", 2},
    {"icmp-event", 3}, {"inappropriate-content", 1}, {"policy-violation", 1},
    {"default-login-attempt", 2}, {"sdf", 2}, {"file-format", 1}, {"malware-cnc", 1},
    {"client-side-exploit", 1}, {"targeted-activity", 1}, {"exploit-kit", 1},
    {"external-ip-check", 2}, {"domain-c2", 1}, {"pup-activity", 2},
    {"credential-theft", 1}, {"social-engineering", 2}, {"coin-mining", 2},
    {"command-and-control", 1},
};

static void classes_set(imp_classes *c, const char *name, int priority)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0) {
            c->v[i].priority = priority;
            return;
        }
    c->v = imp_xrealloc(c->v, (c->n + 1) * sizeof(cls));
    c->v[c->n].name = imp_xstrdup(name);
    c->v[c->n].priority = priority;
    c->n++;
}

imp_classes *imp_classes_builtin(void)
{
    imp_classes *c = imp_xcalloc(1, sizeof(*c));
    for (size_t i = 0; i < sizeof builtin_classes / sizeof builtin_classes[0]; i++)
        classes_set(c, builtin_classes[i].name, builtin_classes[i].priority);
    return c;
}

char *imp_classes_load(imp_classes *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return imp_xprintf("%s: %s", path, strerror(errno));
    /* A file replaces the built-in table. */
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].name);
    c->n = 0;
    char line[4096];
    unsigned ln = 0;
    char *err = NULL;
    static const char key[] = "config classification:";
    while (!err && fgets(line, sizeof line, f)) {
        ln++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        if (strncmp(s, key, sizeof key - 1) != 0)
            continue;
        s += sizeof key - 1;
        char *c1 = strchr(s, ',');
        char *c2 = c1 ? strrchr(c1 + 1, ',') : NULL;
        if (!c1 || !c2) {
            err = imp_xprintf("%s:%u: expected NAME,DESCRIPTION,PRIORITY", path, ln);
            break;
        }
        *c1 = 0;
        char *name = trim(s);
        char *end;
        long prio = strtol(trim(c2 + 1), &end, 10);
        if (*end || prio < 0 || !*name) {
            err = imp_xprintf("%s:%u: bad classification priority", path, ln);
            break;
        }
        classes_set(c, name, (int)prio);
    }
    fclose(f);
    return err;
}

void imp_classes_free(imp_classes *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].name);
    free(c->v);
    free(c);
}

int imp_class_priority(const imp_classes *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return c->v[i].priority;
    return -1;
}
