/*
 * Flowbits (docs/rule-format.md, "Flowbits"): named bits of a flow that rules
 * set, unset or toggle when they fire and check before they fire.  A flow is
 * one stream, or two streams the host linked; linked, both use the bits of
 * the to_server stream.  Names become bit numbers once, at load.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct name_ref {
    const char *name;
    uint32_t record;
} name_ref;

static int cmp_name(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->record > y->record) - (x->record < y->record);
}

vp_status vp_flowbits_index(vp_bundle_t *b, vp_error_t **err)
{
    const vp_model *m = &b->m;
    if (m->n_flowbits == 0)
        return VP_OK;
    b->fb_first = calloc(m->n_rules + 1, sizeof(uint32_t));
    b->fb_ops = calloc(m->n_flowbits, sizeof(vp_fbop));
    name_ref *refs = calloc(m->n_flowbits, sizeof(name_ref));
    if (!b->fb_first || !b->fb_ops || !refs) {
        free(refs);
        return vp_error_set(err, VP_E_NOMEM, -1, "out of memory");
    }
    /* Records are in rule order (the codec checked it): count, then prefix sums. */
    for (size_t i = 0; i < m->n_flowbits; i++)
        b->fb_first[m->flowbits[i].rule + 1]++;
    for (size_t r = 0; r < m->n_rules; r++)
        b->fb_first[r + 1] += b->fb_first[r];
    /* Sorting the names numbers them without a hash table to attack. */
    for (size_t i = 0; i < m->n_flowbits; i++)
        refs[i] = (name_ref){vp_model_str(m, m->flowbits[i].name), (uint32_t)i};
    qsort(refs, m->n_flowbits, sizeof(name_ref), cmp_name);
    size_t bits = 0;
    for (size_t i = 0; i < m->n_flowbits; i++) {
        if (i > 0 && strcmp(refs[i].name, refs[i - 1].name) != 0)
            bits++;
        b->fb_ops[refs[i].record].bit = (uint32_t)bits;
        b->fb_ops[refs[i].record].op = m->flowbits[refs[i].record].op;
    }
    b->n_fbits = bits + 1;
    free(refs);
    if (b->n_fbits > VP_MAX_FLOWBIT_NAMES)
        return vp_error_set(err, VP_E_BUNDLE_FORMAT, -1,
                            "%zu distinct flowbit names, more than the %u a bundle may use",
                            b->n_fbits, VP_MAX_FLOWBIT_NAMES);
    return VP_OK;
}

void vp_flowbits_free(vp_bundle_t *b)
{
    free(b->fb_first);
    free(b->fb_ops);
    b->fb_first = NULL;
    b->fb_ops = NULL;
}

int vp_flowbits_allow(const vp_stream_t *s, uint32_t rule)
{
    const vp_bundle_t *b = s->bundle;
    if (!b->fb_first)
        return 1;
    for (uint32_t i = b->fb_first[rule]; i < b->fb_first[rule + 1]; i++) {
        const vp_fbop *o = &b->fb_ops[i];
        if (o->op == VP_FB_ISSET && !vp_bit_get(s->fbits, o->bit))
            return 0;
        if (o->op == VP_FB_ISNOTSET && vp_bit_get(s->fbits, o->bit))
            return 0;
    }
    return 1;
}

void vp_flowbits_apply(vp_stream_t *s, uint32_t rule)
{
    const vp_bundle_t *b = s->bundle;
    if (!b->fb_first)
        return;
    for (uint32_t i = b->fb_first[rule]; i < b->fb_first[rule + 1]; i++) {
        const vp_fbop *o = &b->fb_ops[i];
        if (o->op == VP_FB_SET)
            vp_bit_set(s->fbits, o->bit);
        else if (o->op == VP_FB_UNSET)
            vp_bit_clear(s->fbits, o->bit);
        else if (o->op == VP_FB_TOGGLE)
            s->fbits[o->bit >> 3] ^= (uint8_t)(1u << (o->bit & 7));
    }
}

void vp_flowbits_detach(vp_stream_t *s)
{
    if (s->fbits == s->fbits_own)
        return;
    memcpy(s->fbits_own, s->fbits, s->engine->fbit_bytes);
    s->fbits = s->fbits_own;
}

/* What either stream had set before the link belongs to the flow. */
void vp_flowbits_share(vp_stream_t *to_server, vp_stream_t *to_client)
{
    size_t n = to_server->engine->fbit_bytes;
    if (n == 0 || to_client->engine != to_server->engine)
        return;
    for (size_t i = 0; i < n; i++)
        to_server->fbits_own[i] |= to_client->fbits[i];
    to_server->fbits = to_server->fbits_own;
    to_client->fbits = to_server->fbits_own;
}
