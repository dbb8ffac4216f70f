/*
 * Alert filter: applies rules' `threshold` fields to events for a host that
 * knows the addresses and the time the library does not see.
 *
 * State is one fixed table of (rule, tracked key) periods, allocated when the
 * filter is made, so checking an event never allocates.  Open addressing
 * with a bounded probe: a period that is over may be taken by a key whose
 * probe passes it; when a key finds no slot, the table is rebuilt without the
 * periods that are over (into a second table of the same size, at most once
 * per second of event time, since only time ends periods), and if there is
 * still no slot the event is reported: a filter errs on the side of telling
 * the console.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_ENTRIES 16384u
#define MAX_ENTRIES (1u << 22)
#define PROBE_LIMIT 64u
#define KEY_BYTES 33   /* family, then one or two 16-byte addresses */

typedef struct filter_rule {
    uint32_t id;
    uint8_t type, track;
    uint32_t count, seconds;
} filter_rule;

typedef struct slot {
    uint64_t start;        /* the period's first second */
    uint32_t rule;         /* index into rules + 1; 0: never used */
    uint32_t count;        /* events of the period so far */
    uint8_t key[KEY_BYTES];
} slot;

struct vp_alert_filter {
    filter_rule *rules;    /* sorted by id */
    size_t n_rules;
    slot *slots;
    slot *spare;           /* the rebuild's target, swapped with slots */
    size_t mask;           /* table size - 1 (a power of two) */
    size_t max_entries;
    size_t entries;
    uint64_t swept_at;     /* event time of the last rebuild + 1; 0: none yet */
    uint64_t checked, suppressed, untracked;
};

static int cmp_rule_id(const void *a, const void *b)
{
    uint32_t x = ((const filter_rule *)a)->id, y = ((const filter_rule *)b)->id;
    return x < y ? -1 : x > y;
}

VP_API vp_status vp_alert_filter_create(const vp_bundle_t *bundle, size_t max_entries,
                                        vp_alert_filter_t **out, vp_error_t **err)
{
    if (err)
        *err = NULL;
    if (!out)
        return vp_error_set(err, VP_E_INVALID, -1, "alert filter: out is NULL");
    *out = NULL;
    if (!bundle)
        return vp_error_set(err, VP_E_INVALID, -1, "alert filter: bundle is NULL");
    if (max_entries == 0)
        max_entries = DEFAULT_ENTRIES;
    if (max_entries > MAX_ENTRIES)
        return vp_error_set(err, VP_E_INVALID, -1,
                            "alert filter: max_entries %zu is over the limit %u", max_entries,
                            MAX_ENTRIES);
    size_t size = 16;
    while (size < 2 * max_entries)   /* half full at most: short probes */
        size *= 2;
    vp_alert_filter_t *f = calloc(1, sizeof *f);
    const vp_model *m = &bundle->m;
    if (f) {
        f->rules = calloc(m->n_thresholds ? m->n_thresholds : 1, sizeof *f->rules);
        f->slots = calloc(size, sizeof *f->slots);
        f->spare = calloc(size, sizeof *f->spare);
    }
    if (!f || !f->rules || !f->slots || !f->spare) {
        vp_alert_filter_free(f);
        return vp_error_set(err, VP_E_NOMEM, -1, "alert filter: out of memory for %zu slots",
                            size);
    }
    for (size_t i = 0; i < m->n_thresholds; i++) {
        const vp_mthreshold *t = &m->thresholds[i];
        f->rules[i] = (filter_rule){ m->rules[t->rule].id, t->type, t->track, t->count,
                                     t->seconds };
    }
    f->n_rules = m->n_thresholds;
    qsort(f->rules, f->n_rules, sizeof *f->rules, cmp_rule_id);
    f->mask = size - 1;
    f->max_entries = max_entries;
    *out = f;
    return VP_OK;
}

VP_API void vp_alert_filter_free(vp_alert_filter_t *f)
{
    if (!f)
        return;
    free(f->rules);
    free(f->slots);
    free(f->spare);
    free(f);
}

VP_API void vp_alert_filter_reset(vp_alert_filter_t *f)
{
    if (!f)
        return;
    memset(f->slots, 0, (f->mask + 1) * sizeof *f->slots);
    f->entries = 0;
    f->swept_at = 0;
}

static const filter_rule *find_rule(const vp_alert_filter_t *f, uint32_t id)
{
    filter_rule k = { .id = id };
    return f->n_rules ? bsearch(&k, f->rules, f->n_rules, sizeof k, cmp_rule_id) : NULL;
}

static int valid_address(const vp_address_t *a)
{
    return a && (a->family == 4 || a->family == 6);
}

static void put_address(uint8_t *dst, const vp_address_t *a)
{
    memcpy(dst, a->bytes, a->family == 4 ? 4 : 16);
}

/* The tracked key of an event: the same host (or pair, either way round)
 * always gives the same bytes, whatever the caller left in unused bytes. */
static vp_status make_key(const filter_rule *r, const vp_address_t *src, const vp_address_t *dst,
                          uint8_t key[KEY_BYTES])
{
    memset(key, 0, KEY_BYTES);
    if (r->track == VP_TRACK_BY_RULE)
        return VP_OK;
    const vp_address_t *one = r->track == VP_TRACK_BY_DST ? dst : src;
    if (!valid_address(one))
        return VP_E_INVALID;
    key[0] = one->family;
    put_address(key + 1, one);
    if (r->track != VP_TRACK_BY_BOTH)
        return VP_OK;
    if (!valid_address(dst) || dst->family != src->family)
        return VP_E_INVALID;
    put_address(key + 17, dst);
    if (memcmp(key + 1, key + 17, 16) > 0) {
        uint8_t tmp[16];
        memcpy(tmp, key + 1, 16);
        memcpy(key + 1, key + 17, 16);
        memcpy(key + 17, tmp, 16);
    }
    return VP_OK;
}

static uint64_t hash_key(uint32_t rule, const uint8_t key[KEY_BYTES])
{
    uint64_t h = 1469598103934665603ull ^ rule;   /* FNV-1a */
    for (size_t i = 0; i < KEY_BYTES; i++) {
        h ^= key[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static int period_over(const vp_alert_filter_t *f, const slot *s, uint64_t t)
{
    const filter_rule *r = &f->rules[s->rule - 1];
    return t >= s->start && t - s->start >= r->seconds;
}

/* The slot of (rule, key): its own, else a free or finished one; NULL when
 * the probe finds neither. */
static slot *find_slot(vp_alert_filter_t *f, uint32_t rule1, const uint8_t key[KEY_BYTES],
                       uint64_t t, int *fresh)
{
    uint64_t h = hash_key(rule1, key);
    slot *reuse = NULL;
    for (size_t i = 0; i < PROBE_LIMIT && i <= f->mask; i++) {
        slot *s = &f->slots[(h + i) & f->mask];
        if (s->rule == 0) {
            /* keys are never removed: nothing of ours lies beyond a free slot */
            if (!reuse && f->entries < f->max_entries) {
                f->entries++;
                reuse = s;
            }
            break;
        }
        if (s->rule == rule1 && memcmp(s->key, key, KEY_BYTES) == 0) {
            *fresh = period_over(f, s, t);
            return s;
        }
        if (!reuse && period_over(f, s, t))
            reuse = s;
    }
    *fresh = 1;
    return reuse;
}

/* Keeps the periods that are not over, each at the first free slot of its
 * probe.  One that finds none within the probe limit is forgotten. */
static void sweep(vp_alert_filter_t *f, uint64_t t)
{
    memset(f->spare, 0, (f->mask + 1) * sizeof *f->spare);
    size_t kept = 0;
    for (size_t i = 0; i <= f->mask; i++) {
        const slot *s = &f->slots[i];
        if (s->rule == 0 || period_over(f, s, t))
            continue;
        uint64_t h = hash_key(s->rule, s->key);
        size_t j = 0;
        while (j < PROBE_LIMIT && j <= f->mask && f->spare[(h + j) & f->mask].rule != 0)
            j++;
        if (j == PROBE_LIMIT || j > f->mask)
            continue;   /* forgotten, as if its period were over */
        f->spare[(h + j) & f->mask] = *s;
        kept++;
    }
    slot *tmp = f->slots;
    f->slots = f->spare;
    f->spare = tmp;
    f->entries = kept;
    f->swept_at = t + 1;
}

static int decide(const filter_rule *r, slot *s)
{
    switch (r->type) {
    case VP_THRESHOLD_LIMIT:
        return s->count <= r->count;
    case VP_THRESHOLD_THRESHOLD:
        if (s->count < r->count)
            return 0;
        s->count = 0;   /* every count-th event of the period */
        return 1;
    case VP_THRESHOLD_BOTH:
        return s->count == r->count;
    default:            /* VP_THRESHOLD_DETECTION_FILTER */
        return s->count > r->count;
    }
}

VP_API vp_status vp_alert_filter_check(vp_alert_filter_t *f, const vp_event_t *ev,
                                       const vp_address_t *src, const vp_address_t *dst,
                                       uint64_t time_s, int *report)
{
    if (!f || !ev || !report)
        return VP_E_INVALID;
    *report = 1;
    const filter_rule *r = find_rule(f, ev->rule_id);
    if (!r) {
        f->checked++;
        return VP_OK;
    }
    uint8_t key[KEY_BYTES];
    if (make_key(r, src, dst, key) != VP_OK)
        return VP_E_INVALID;
    f->checked++;
    uint32_t rule1 = (uint32_t)(r - f->rules) + 1;
    int fresh;
    slot *s = find_slot(f, rule1, key, time_s, &fresh);
    if (!s && f->swept_at != time_s + 1) {
        sweep(f, time_s);
        s = find_slot(f, rule1, key, time_s, &fresh);
    }
    if (!s) {
        f->untracked++;
        return VP_OK;
    }
    if (fresh) {
        s->rule = rule1;
        memcpy(s->key, key, KEY_BYTES);
        s->start = time_s;
        s->count = 1;
    } else if (s->count < UINT32_MAX) {
        s->count++;
    }
    *report = decide(r, s);
    f->suppressed += (uint64_t)!*report;
    return VP_OK;
}

VP_API vp_status vp_alert_filter_stats(const vp_alert_filter_t *f, vp_alert_filter_stats_t *stats)
{
    if (!f || !stats || stats->size < sizeof(size_t))
        return VP_E_INVALID;
    vp_alert_filter_stats_t full;
    memset(&full, 0, sizeof full);
    full.size = stats->size;
    full.checked = f->checked;
    full.suppressed = f->suppressed;
    full.untracked = f->untracked;
    full.entries = f->entries;
    full.capacity = f->max_entries;
    memcpy(stats, &full, stats->size < sizeof full ? stats->size : sizeof full);
    return VP_OK;
}
