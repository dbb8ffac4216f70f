/*
 * Flowbits tie rules together: a rule that checks a bit means what it means
 * only with the rules that change the bit.  The importer translates each
 * rule alone (import_xlate.c); these passes look at the set.
 */
#include "import_flowbits.h"

#include <stdlib.h>
#include <string.h>

typedef struct use {
    const char *name;
    size_t rule;
    int writes;
} use;

static int cmp_use(const void *a, const void *b)
{
    const use *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

static int is_write(int op)
{
    return op == IMP_FB_SET || op == IMP_FB_UNSET || op == IMP_FB_TOGGLE;
}

static int live(const imp_rule *r)
{
    return !r->skipped && imp_rule_level(r) < IMP_REJECT;
}

/* Every (name, rule) pair of the rules that are not skipped, sorted by name. */
static use *collect(const imp_rule *rules, size_t n, size_t *n_uses)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += rules[i].skipped ? 0 : rules[i].n_flowbits;
    use *u = imp_xcalloc(k ? k : 1, sizeof(use));
    k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; !rules[i].skipped && j < rules[i].n_flowbits; j++)
            u[k++] = (use){rules[i].flowbits[j].name, i, is_write(rules[i].flowbits[j].op)};
    qsort(u, k, sizeof(use), cmp_use);
    *n_uses = k;
    return u;
}

/* End of the run of uses of u[a]'s name (u is sorted by name). */
static size_t group_end(const use *u, size_t n, size_t a)
{
    size_t b = a;
    while (b < n && strcmp(u[b].name, u[a].name) == 0)
        b++;
    return b;
}

static int dirs_of(const imp_rule *r)
{
    return r->direction == IMP_DIR_TO_SERVER ? 1 : r->direction == IMP_DIR_TO_CLIENT ? 2 : 3;
}

void imp_flowbits_kinds(imp_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        imp_rule *r = &rules[i];
        if (live(r) && r->n_flowbits && r->uses_http && r->uses_raw)
            imp_issue_add(&r->issues, &r->n_issues, IMP_REJECT, "flowbits",
                          "a rule with flowbits inspects either the stream or HTTP buffers in "
                          "the rule language, and this one inspects both");
    }
    size_t nu;
    use *u = collect(rules, n, &nu);
    for (size_t a = 0; a < nu;) {
        size_t b = group_end(u, nu, a);
        for (size_t x = a; x < b; x++) {
            imp_rule *chk = &rules[u[x].rule];
            if (u[x].writes || !live(chk))
                continue;
            for (size_t y = a; y < b; y++) {
                const imp_rule *w = &rules[u[y].rule];
                if (!u[y].writes || !live(w) || w->uses_http == chk->uses_http ||
                    !(dirs_of(w) & dirs_of(chk)))
                    continue;
                imp_issue_add(&chk->issues, &chk->n_issues, IMP_REJECT, "flowbits",
                              "flowbit %s is changed by sid %u, which inspects %s, in the "
                              "direction this rule inspects %s: the library orders the two "
                              "kinds by how the host cuts the data, so the rule language "
                              "refuses it", u[x].name, w->sid,
                              w->uses_http ? "HTTP buffers" : "the stream",
                              chk->uses_http ? "HTTP buffers" : "the stream");
                break;
            }
        }
        a = b;
    }
    free(u);
}

void imp_flowbits_setters(imp_rule *rules, size_t n, int exact_only)
{
    for (int moved = 1; moved;) {
        moved = 0;
        size_t nu;
        use *u = collect(rules, n, &nu);
        for (size_t a = 0; a < nu;) {
            size_t b = group_end(u, nu, a);
            /* the first writer whose meaning is lost or changed */
            const imp_rule *lost = NULL;
            for (size_t y = a; y < b && !lost; y++)
                if (u[y].writes && (!live(&rules[u[y].rule]) ||
                                    (imp_rule_level(&rules[u[y].rule]) == IMP_CHANGED &&
                                     !imp_rule_changed_only_by_address(&rules[u[y].rule]))))
                    lost = &rules[u[y].rule];
            for (size_t x = a; lost && x < b; x++) {
                imp_rule *chk = &rules[u[x].rule];
                if (u[x].writes || !live(chk) || chk == lost ||
                    (imp_rule_level(chk) == IMP_CHANGED && !exact_only))
                    continue;
                int level = exact_only ? IMP_REJECT : IMP_CHANGED;
                imp_issue_add(&chk->issues, &chk->n_issues, level, "flowbits",
                              "flowbit %s is also changed by sid %u, which is %s: the rule "
                              "checks a bit the import does not keep as the source does%s",
                              u[x].name, lost->sid,
                              live(lost) ? "imported with a changed meaning" : "not imported",
                              exact_only ? " (--exact-only)" : "");
                moved = 1;
            }
            a = b;
        }
        free(u);
        if (!exact_only)
            break; /* one round: changed checkers do not change what others check */
    }
}
