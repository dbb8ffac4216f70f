/* Loading a bundle: validate, deserialize the database, build look-up indexes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/bundle_codec.h"
#include "internal.h"

/* Bundles larger than this are refused before reading (a sanity bound, far
 * above any real rule set). */
#define VP_MAX_BUNDLE_BYTES (1ull << 31)

static void bundle_destroy(vp_bundle_t *b)
{
    if (!b)
        return;
    hs_free_database(b->db);
    vp_chainplan_free(&b->plan);
    vp_model_free(&b->m);
    free(b->strptrs);
    free(b->by_id);
    free(b->atom_ref_first);
    free(b->atom_refs);
    free(b->http_rules);
    vp_flowbits_free(b);
    for (int k = 0; k < VP_BUF_COUNT; k++) {
        hs_free_database(b->bufs[k].db);
        free(b->bufs[k].head_deadlines);
        free(b->bufs[k].rel_neg_within);
        free(b->bufs[k].open_negs);
        free(b->bufs[k].head_pos_any);
        free(b->bufs[k].rel_pos_any);
        free(b->bufs[k].rel_jump);
        free(b->bufs[k].elems);
    }
    free(b);
}

void vp_bundle_ref(vp_bundle_t *b)
{
    atomic_fetch_add(&b->refs, 1);
}

VP_API void vp_bundle_free(vp_bundle_t *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        bundle_destroy(b);
}

static int cmp_id(const void *a, const void *b)
{
    uint32_t x = ((const vp_id_index *)a)->id, y = ((const vp_id_index *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_deadline(const void *a, const void *b)
{
    const vp_deadline *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->elem < y->elem ? -1 : x->elem > y->elem;
}

int vp_bundle_find_rule(const vp_bundle_t *b, uint32_t id, uint32_t *rule)
{
    vp_id_index key = {id, 0};
    const vp_id_index *hit = bsearch(&key, b->by_id, b->m.n_rules, sizeof(key), cmp_id);
    if (!hit)
        return 0;
    *rule = hit->rule;
    return 1;
}

/* atom -> conditions using it, as a CSR array. */
static int index_atoms(vp_bundle_t *b)
{
    const vp_model *m = &b->m;
    b->atom_ref_first = calloc(m->n_atoms + 1, sizeof(uint32_t));
    b->atom_refs = calloc(m->n_conds ? m->n_conds : 1, sizeof(uint32_t));
    if (!b->atom_ref_first || !b->atom_refs)
        return -1;
    for (size_t c = 0; c < m->n_conds; c++)
        b->atom_ref_first[m->conds[c].atom + 1]++;
    for (size_t a = 0; a < m->n_atoms; a++)
        b->atom_ref_first[a + 1] += b->atom_ref_first[a];
    uint32_t *fill = calloc(m->n_atoms + 1, sizeof(uint32_t));
    if (!fill)
        return -1;
    for (size_t c = 0; c < m->n_conds; c++) {
        uint32_t a = m->conds[c].atom;
        b->atom_refs[b->atom_ref_first[a] + fill[a]++] = (uint32_t)c;
    }
    free(fill);
    return 0;
}

/* Per buffer: its elements, and the negations that need deciding without a
 * match (deadlines, end of buffer). */
static int index_buffers(vp_bundle_t *b)
{
    size_t n = b->plan.n_elems;
    for (int k = 0; k < VP_BUF_COUNT; k++) {
        vp_buflists *bl = &b->bufs[k];
        bl->head_deadlines = calloc(n ? n : 1, sizeof(vp_deadline));
        bl->rel_neg_within = calloc(n ? n : 1, sizeof(uint32_t));
        bl->open_negs = calloc(n ? n : 1, sizeof(uint32_t));
        bl->elems = calloc(n ? n : 1, sizeof(uint32_t));
        bl->head_pos_any = calloc(n ? n : 1, sizeof(vp_deadline));
        bl->rel_pos_any = calloc(n ? n : 1, sizeof(uint32_t));
        bl->rel_jump = calloc(n ? n : 1, sizeof(uint32_t));
        if (!bl->head_deadlines || !bl->rel_neg_within || !bl->open_negs || !bl->elems ||
            !bl->head_pos_any || !bl->rel_pos_any || !bl->rel_jump)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const vp_elem *el = &b->plan.elems[i];
        vp_buflists *bl = &b->bufs[el->buf];
        bl->elems[bl->n_elems++] = (uint32_t)i;
        if (el->buf != VP_BUF_STREAM)
            b->has_http = 1;
        if (el->anybyte && el->kind == VP_EK_HEAD_POS) {
            vp_deadline d = {el->max_end, (uint32_t)i};
            bl->head_pos_any[bl->n_head_pos_any++] = d;
        } else if (el->anybyte && el->kind == VP_EK_REL_POS) {
            bl->rel_pos_any[bl->n_rel_pos_any++] = (uint32_t)i;
        } else if (el->jump) {
            bl->rel_jump[bl->n_rel_jump++] = (uint32_t)i;
        } else if (el->kind == VP_EK_HEAD_NEG && el->max_end != UINT64_MAX) {
            vp_deadline d = {el->max_end, (uint32_t)i};
            bl->head_deadlines[bl->n_head_deadlines++] = d;
        } else if (el->kind == VP_EK_HEAD_NEG ||
                   (el->kind == VP_EK_REL_NEG && !el->has_within)) {
            bl->open_negs[bl->n_open_negs++] = (uint32_t)i;
        } else if (el->kind == VP_EK_REL_NEG) {
            bl->rel_neg_within[bl->n_rel_neg_within++] = (uint32_t)i;
        }
    }
    for (int k = 0; k < VP_BUF_COUNT; k++) {
        qsort(b->bufs[k].head_deadlines, b->bufs[k].n_head_deadlines, sizeof(vp_deadline),
              cmp_deadline);
        qsort(b->bufs[k].head_pos_any, b->bufs[k].n_head_pos_any, sizeof(vp_deadline),
              cmp_deadline);
    }
    b->http_rules = calloc(b->m.n_rules ? b->m.n_rules : 1, sizeof(uint32_t));
    if (!b->http_rules)
        return -1;
    for (size_t r = 0; r < b->m.n_rules; r++)
        if (b->plan.rule_http[r])
            b->http_rules[b->n_http_rules++] = (uint32_t)r;
    for (int a = 0; a < VP_AN_COUNT; a++)
        b->anomaly_atom[a] = -1;
    for (size_t a = 0; a < b->m.n_atoms; a++)
        if (b->m.atoms[a].flags & VP_A_ANOMALY)
            b->anomaly_atom[vp_anomaly_by_name(vp_model_str(&b->m, b->m.atoms[a].expr))] =
                (int32_t)a;
    return 0;
}

static vp_status index_rules(vp_bundle_t *b, vp_error_t **err)
{
    const vp_model *m = &b->m;
    b->strptrs = calloc(m->n_strlist ? m->n_strlist : 1, sizeof(char *));
    b->by_id = calloc(m->n_rules ? m->n_rules : 1, sizeof(vp_id_index));
    if (!b->strptrs || !b->by_id)
        return vp_error_set(err, VP_E_NOMEM, -1, "out of memory indexing bundle");
    for (size_t i = 0; i < m->n_strlist; i++)
        b->strptrs[i] = vp_model_str(m, m->strlist[i]);
    for (size_t r = 0; r < m->n_rules; r++) {
        b->by_id[r].id = m->rules[r].id;
        b->by_id[r].rule = (uint32_t)r;
    }
    qsort(b->by_id, m->n_rules, sizeof(vp_id_index), cmp_id);
    for (size_t r = 1; r < m->n_rules; r++)
        if (b->by_id[r].id == b->by_id[r - 1].id)
            return vp_error_set(err, VP_E_BUNDLE_FORMAT, -1, "duplicate rule id %u",
                                b->by_id[r].id);
    return VP_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

VP_API vp_status vp_bundle_load_memory_ex(const void *data, size_t len,
                                          const vp_load_options_t *opts, vp_bundle_t **out,
                                          vp_error_t **err)
{
    if (err)
        *err = NULL;
    if (!out)
        return vp_error_set(err, VP_E_INVALID, -1, "out is NULL");
    *out = NULL;
    if (!data && len)
        return vp_error_set(err, VP_E_INVALID, -1, "data is NULL");
    vp_load_options_t defaults;
    memset(&defaults, 0, sizeof(defaults));
    defaults.allow_recompile = 1;
    if (!opts)
        opts = &defaults;
    double t0 = now_ms();
    vp_bundle_t *b = calloc(1, sizeof(*b));
    if (!b)
        return vp_error_set(err, VP_E_NOMEM, -1, "out of memory");
    atomic_init(&b->refs, 1);
    b->uid = vp_unique_id(b);
    char msg[256];
    int64_t off = -1;
    /* Layout and checksums first, then trust, and only then the contents. */
    vp_status st = vp_bundle_peek(data, len, &b->hdr, msg, sizeof(msg), &off);
    if (st == VP_OK)
        st = vp_verify_bundle(data, &b->hdr, opts, b->key_id, err);
    else
        vp_error_set(err, st, off, "%s", msg);
    if (st == VP_OK) {
        st = vp_bundle_decode(data, len, &b->m, msg, sizeof(msg), &off);
        if (st != VP_OK)
            vp_error_set(err, st, off, "%s", msg);
    }
    if (st != VP_OK) {
        bundle_destroy(b);
        return st;
    }
    size_t bad_rule = 0, bad_cond = 0;
    int rc = vp_chainplan_build(&b->m, &b->plan, &bad_rule, &bad_cond);
    if (rc == -2) {
        uint32_t id = b->m.rules[bad_rule].id;
        bundle_destroy(b);
        return vp_error_set(err, VP_E_BUNDLE_FORMAT, -1,
                            "rule %u condition %zu needs more than %u bytes of lookback", id,
                            bad_cond + 1, VP_MAX_LOOKBACK);
    }
    if (rc == -3) {
        bundle_destroy(b);
        return vp_error_set(err, VP_E_BUNDLE_FORMAT, -1,
                            "rule %zu: rules' conditions must follow each other without overlap",
                            bad_rule);
    }
    if (rc != 0 || index_atoms(b) != 0 || index_buffers(b) != 0) {
        bundle_destroy(b);
        return vp_error_set(err, VP_E_NOMEM, -1, "out of memory");
    }
    st = index_rules(b, err);
    if (st == VP_OK)
        st = vp_flowbits_index(b, err);
    if (st == VP_OK)
        st = vp_select_database(b, data, opts, err);
    if (st != VP_OK) {
        bundle_destroy(b);
        return st;
    }
    b->load_ms = now_ms() - t0;
    *out = b;
    return VP_OK;
}

VP_API vp_status vp_bundle_load_memory(const void *data, size_t len, vp_bundle_t **out,
                                       vp_error_t **err)
{
    return vp_bundle_load_memory_ex(data, len, NULL, out, err);
}

VP_API vp_status vp_bundle_load_file(const char *path, vp_bundle_t **out, vp_error_t **err)
{
    return vp_bundle_load_file_ex(path, NULL, out, err);
}

VP_API vp_status vp_bundle_load_file_ex(const char *path, const vp_load_options_t *opts,
                                        vp_bundle_t **out, vp_error_t **err)
{
    if (err)
        *err = NULL;
    if (!out)
        return vp_error_set(err, VP_E_INVALID, -1, "out is NULL");
    *out = NULL;
    if (!path)
        return vp_error_set(err, VP_E_INVALID, -1, "path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return vp_error_set(err, VP_E_IO, -1, "%s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    vp_status st = VP_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= VP_MAX_BUNDLE_BYTES) {
                st = vp_error_set(err, VP_E_BUNDLE_FORMAT, (int64_t)len, "%s: bundle too large",
                                  path);
                break;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                st = vp_error_set(err, VP_E_NOMEM, -1, "out of memory reading %s", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                st = vp_error_set(err, VP_E_IO, -1, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st == VP_OK)
        st = vp_bundle_load_memory_ex(buf, len, opts, out, err);
    free(buf);
    return st;
}

VP_API uint64_t vp_bundle_serial(const vp_bundle_t *b)
{
    return b ? b->m.serial : 0;
}

VP_API const char *vp_bundle_ruleset(const vp_bundle_t *b)
{
    return b ? vp_model_str(&b->m, b->m.ruleset) : "";
}

VP_API size_t vp_bundle_rule_count(const vp_bundle_t *b)
{
    return b ? b->m.n_rules : 0;
}

static void fill_info(const vp_bundle_t *b, uint32_t r, vp_rule_info_t *info)
{
    const vp_model *m = &b->m;
    const vp_mrule *rule = &m->rules[r];
    size_t size = info->size;
    vp_rule_info_t full;
    memset(&full, 0, sizeof(full));
    full.size = size;
    full.id = rule->id;
    full.name = vp_model_str(m, rule->name);
    full.description = vp_model_str(m, rule->description);
    full.cves = b->strptrs + rule->cve_first;
    full.cve_count = rule->cve_count;
    full.references = b->strptrs + rule->ref_first;
    full.reference_count = rule->ref_count;
    full.tags = b->strptrs + rule->tag_first;
    full.tag_count = rule->tag_count;
    full.severity = (vp_severity)rule->severity;
    full.cvss = rule->cvss10 < 0 ? -1.0 : rule->cvss10 / 10.0;
    full.modes = rule->modes;
    full.action = (vp_action)rule->action;
    full.proto = (vp_proto)rule->proto;
    full.direction = (vp_direction)rule->direction;
    full.condition_count = rule->cond_count;
    full.service = (vp_service)rule->service;
    full.noalert = (rule->flags & VP_R_NOALERT) != 0;
    full.flowbit_count = b->fb_first ? b->fb_first[r + 1] - b->fb_first[r] : 0;
    const vp_mthreshold *t = vp_model_threshold_of(m, r);
    if (t) {
        full.threshold_type = (vp_threshold_type)t->type;
        full.threshold_track = (vp_track)t->track;
        full.threshold_count = t->count;
        full.threshold_seconds = t->seconds;
    }
    /* Older callers pass a smaller struct: fill only what they know. */
    memcpy(info, &full, size < sizeof(full) ? size : sizeof(full));
}

VP_API vp_status vp_bundle_rule_at(const vp_bundle_t *b, size_t index, vp_rule_info_t *info)
{
    if (!b || !info || info->size < offsetof(vp_rule_info_t, name) || index >= b->m.n_rules)
        return VP_E_INVALID;
    fill_info(b, (uint32_t)index, info);
    return VP_OK;
}

VP_API vp_status vp_bundle_rule_by_id(const vp_bundle_t *b, uint32_t id, vp_rule_info_t *info)
{
    if (!b || !info || info->size < offsetof(vp_rule_info_t, name))
        return VP_E_INVALID;
    uint32_t r;
    if (!vp_bundle_find_rule(b, id, &r))
        return VP_E_UNKNOWN_RULE;
    fill_info(b, r, info);
    return VP_OK;
}

VP_API vp_status vp_bundle_stats(const vp_bundle_t *b, vp_bundle_stats_t *stats)
{
    if (!b || !stats || stats->size < sizeof(size_t))
        return VP_E_INVALID;
    vp_bundle_stats_t full;
    memset(&full, 0, sizeof(full));
    full.size = stats->size;
    full.format_major = b->hdr.major;
    full.format_minor = b->hdr.minor;
    full.file_size = b->hdr.file_size;
    full.section_count = b->hdr.section_count;
    full.rule_count = b->m.n_rules;
    full.condition_count = b->m.n_conds;
    full.pattern_count = b->m.n_atoms;
    full.database_bytes = b->m.hs_stream_db_len;
    for (size_t i = 0; i < b->hdr.section_count; i++)
        if (b->hdr.sections[i].type == VP_SECT_SIGNATURE)
            full.is_signed = 1;
    memcpy(full.key_id, b->key_id, sizeof(full.key_id));
    full.database = b->db_source;
    full.load_ms = b->load_ms;
    memcpy(stats, &full, stats->size < sizeof(full) ? stats->size : sizeof(full));
    return VP_OK;
}

VP_API vp_status vp_bundle_section_at(const vp_bundle_t *b, size_t i, const char **name,
                                      uint64_t *size)
{
    if (!b || !name || !size || i >= b->hdr.section_count)
        return VP_E_INVALID;
    *name = vp_bundle_section_name(b->hdr.sections[i].type);
    *size = b->hdr.sections[i].size;
    return VP_OK;
}
