/* The public compiler API: sources in, diagnostics and bundle bytes out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "../common/bundle_codec.h"
#include "../common/signing.h"
#include "../common/error.h"
#include "plan.h"

typedef struct source {
    char *name;
    uint8_t *text;
    size_t len;
    int unreadable;   /* read error already recorded as a diagnostic */
} source;

struct vp_compiler {
    source *sources;
    size_t n_sources, cap_sources;
    uint64_t serial;
    int serial_set;
    int run_tests;
    int cpu_variants;
    int have_key;
    uint8_t secret_key[64];
    vp_diags diags;
};

VP_API vp_status vp_compiler_create(vp_compiler_t **out)
{
    if (!out)
        return VP_E_INVALID;
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return VP_E_NOMEM;
    (*out)->run_tests = 1;
    (*out)->cpu_variants = 1;
    return VP_OK;
}

static void sources_free(vp_compiler_t *c)
{
    for (size_t i = 0; i < c->n_sources; i++) {
        free(c->sources[i].name);
        free(c->sources[i].text);
    }
    free(c->sources);
}

VP_API void vp_compiler_free(vp_compiler_t *c)
{
    if (!c)
        return;
    sources_free(c);
    vp_diags_free(&c->diags);
    sodium_memzero(c->secret_key, sizeof(c->secret_key));
    free(c);
}

static source *source_new(vp_compiler_t *c, const char *name)
{
    if (c->n_sources == c->cap_sources) {
        size_t ncap = c->cap_sources ? c->cap_sources * 2 : 8;
        source *ns = realloc(c->sources, ncap * sizeof(source));
        if (!ns)
            return NULL;
        c->sources = ns;
        c->cap_sources = ncap;
    }
    source *s = &c->sources[c->n_sources];
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    if (!s->name)
        return NULL;
    c->n_sources++;
    return s;
}

VP_API vp_status vp_compiler_add_memory(vp_compiler_t *c, const char *name, const void *yaml,
                                        size_t len)
{
    if (!c || !name || (!yaml && len))
        return VP_E_INVALID;
    source *s = source_new(c, name);
    if (!s)
        return VP_E_NOMEM;
    s->text = malloc(len ? len : 1);
    if (!s->text)
        return VP_E_NOMEM;
    if (len)
        memcpy(s->text, yaml, len);
    s->len = len;
    return VP_OK;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

VP_API vp_status vp_compiler_add_file(vp_compiler_t *c, const char *path)
{
    if (!c || !path)
        return VP_E_INVALID;
    source *s = source_new(c, path);
    if (!s)
        return VP_E_NOMEM;
    if (read_file(path, &s->text, &s->len) != 0) {
        if (errno == ENOMEM)
            return VP_E_NOMEM;
        s->unreadable = 1;
        vp_diag_add(&c->diags, VP_DIAG_ERROR, VP_D_IO, path, (vp_mark){0, 0}, 0,
                    "cannot read rule source: %s", strerror(errno));
    }
    return VP_OK;
}

VP_API vp_status vp_compiler_set_serial(vp_compiler_t *c, uint64_t serial)
{
    if (!c)
        return VP_E_INVALID;
    c->serial = serial;
    c->serial_set = 1;
    return VP_OK;
}

VP_API vp_status vp_compiler_set_signing_key(vp_compiler_t *c, const uint8_t secret_key[64])
{
    if (!c || !secret_key)
        return VP_E_INVALID;
    memcpy(c->secret_key, secret_key, sizeof(c->secret_key));
    c->have_key = 1;
    return VP_OK;
}

VP_API vp_status vp_compiler_set_signing_key_file(vp_compiler_t *c, const char *path,
                                                  vp_error_t **err)
{
    if (err)
        *err = NULL;
    if (!c || !path)
        return VP_E_INVALID;
    uint8_t *text = NULL;
    size_t len = 0;
    if (read_file(path, &text, &len) != 0)
        return vp_error_set(err, VP_E_IO, -1, "%s: %s", path, strerror(errno));
    uint8_t key[VP_SECKEY_BYTES];
    int bad = vp_keyfile_parse((const char *)text, len, 1, key, sizeof(key));
    sodium_memzero(text, len);
    free(text);
    if (bad)
        return vp_error_set(err, VP_E_INVALID, -1,
                            "%s: not a secret key file (expected \"vpatch-ed25519-secret <128 hex "
                            "digits>\")", path);
    vp_status st = vp_compiler_set_signing_key(c, key);
    sodium_memzero(key, sizeof(key));
    return st;
}

VP_API vp_status vp_compiler_set_cpu_variants(vp_compiler_t *c, int enable)
{
    if (!c || (enable != 0 && enable != 1))
        return VP_E_INVALID;
    c->cpu_variants = enable;
    return VP_OK;
}

static vp_status write_key_file(const char *path, int secret, const uint8_t *key, size_t n,
                                vp_error_t **err)
{
    char line[256];
    size_t len = vp_keyfile_format(line, sizeof(line), secret, key, n);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, secret ? 0600 : 0644);
    vp_status st = VP_OK;
    if (fd < 0 || write(fd, line, len) != (ssize_t)len)
        st = vp_error_set(err, VP_E_IO, -1, "%s: %s", path, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && st == VP_OK)
        st = vp_error_set(err, VP_E_IO, -1, "%s: %s", path, strerror(errno));
    sodium_memzero(line, sizeof(line));
    return st;
}

VP_API vp_status vp_compiler_keygen(const char *name, vp_error_t **err)
{
    if (err)
        *err = NULL;
    if (!name || !*name)
        return vp_error_set(err, VP_E_INVALID, -1, "key name is empty");
    if (sodium_init() < 0)
        return vp_error_set(err, VP_E_NOMEM, -1, "libsodium cannot be initialised");
    uint8_t pk[VP_PUBKEY_BYTES], sk[VP_SECKEY_BYTES];
    crypto_sign_keypair(pk, sk);
    size_t n = strlen(name) + 5;
    char *path = malloc(n);
    if (!path)
        return vp_error_set(err, VP_E_NOMEM, -1, "out of memory");
    snprintf(path, n, "%s.key", name);
    vp_status st = write_key_file(path, 1, sk, sizeof(sk), err);
    if (st == VP_OK) {
        snprintf(path, n, "%s.pub", name);
        st = write_key_file(path, 0, pk, sizeof(pk), err);
    }
    sodium_memzero(sk, sizeof(sk));
    free(path);
    return st;
}

VP_API vp_status vp_compiler_set_run_tests(vp_compiler_t *c, int run_tests)
{
    if (!c || (run_tests != 0 && run_tests != 1))
        return VP_E_INVALID;
    c->run_tests = run_tests;
    return VP_OK;
}

/* Position of a diagnostic's file among the sources (unknown files last). */
static size_t source_rank(const vp_compiler_t *c, const char *file)
{
    for (size_t i = 0; i < c->n_sources; i++)
        if (strcmp(c->sources[i].name, file) == 0)
            return i;
    return c->n_sources;
}

static int diag_before(const vp_compiler_t *c, const vp_diag *a, const vp_diag *b)
{
    size_t ra = source_rank(c, a->file), rb = source_rank(c, b->file);
    if (ra != rb)
        return ra < rb;
    return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* Diagnostics read top to bottom: by source in the order added, then by
 * position.  Insertion sort keeps equal positions in the order found. */
static void sort_diags(vp_compiler_t *c)
{
    vp_diags *d = &c->diags;
    for (size_t i = 1; i < d->n; i++) {
        vp_diag x = d->v[i];
        size_t j = i;
        for (; j > 0 && diag_before(c, &x, &d->v[j - 1]); j--)
            d->v[j] = d->v[j - 1];
        d->v[j] = x;
    }
}

/* Signs encoded bundle bytes: the digest does not cover section offsets, so
 * re-encoding with the signature section appended keeps what was signed. */
static vp_status sign_and_encode(const vp_compiler_t *c, const vp_model *m,
                                 vp_bundle_extra *extra, size_t n_extra, uint8_t **bytes,
                                 size_t *len)
{
    vp_bundle_header_info h;
    if (vp_bundle_peek(*bytes, *len, &h, NULL, 0, NULL) != VP_OK)
        return VP_E_INVALID;
    uint8_t digest[32];
    vp_sig sig;
    sig.alg = VP_SIG_ALG_ED25519;
    memcpy(sig.pubkey, c->secret_key + 32, VP_PUBKEY_BYTES);
    if (vp_signing_digest(*bytes, &h, digest) != 0 || vp_key_id(sig.pubkey, sig.key_id) != 0 ||
        crypto_sign_detached(sig.sig, NULL, digest, sizeof(digest), c->secret_key) != 0)
        return VP_E_NOMEM;
    uint8_t section[VP_SIG_SECTION_SIZE];
    vp_sig_write(section, &sig);
    extra[n_extra].type = VP_SECT_SIGNATURE;
    extra[n_extra].data = section;
    extra[n_extra].size = sizeof(section);
    free(*bytes);
    *bytes = NULL;
    return vp_bundle_encode_ex(m, extra, n_extra + 1, bytes, len) == 0 ? VP_OK : VP_E_NOMEM;
}

static vp_status emit_bundle(const vp_compiler_t *c, const vp_model *m, uint8_t **bytes,
                             size_t *len)
{
    vp_bundle_extra extra[3];
    size_t n_extra = 0;
    if (m->hs_buffer_dbs) {
        extra[n_extra].type = VP_SECT_HS_BUFFER_DBS;
        extra[n_extra].data = m->hs_buffer_dbs;
        extra[n_extra].size = m->hs_buffer_dbs_len;
        n_extra++;
    }
    uint8_t *variants = NULL;
    size_t variants_len = 0;
    if (c->cpu_variants && vp_plan_cpu_variants(m, &variants, &variants_len) != 0)
        return VP_E_NOMEM;
    if (variants) {
        extra[n_extra].type = VP_SECT_HS_DB_VARIANTS;
        extra[n_extra].data = variants;
        extra[n_extra].size = variants_len;
        n_extra++;
    }
    vp_status st = vp_bundle_encode_ex(m, extra, n_extra, bytes, len) == 0 ? VP_OK : VP_E_NOMEM;
    if (st == VP_OK && c->have_key)
        st = sign_and_encode(c, m, extra, n_extra, bytes, len);
    free(variants);
    return st;
}

VP_API vp_status vp_compiler_build(vp_compiler_t *c, uint8_t **bundle, size_t *len)
{
    if (!c || !bundle || !len)
        return VP_E_INVALID;
    *bundle = NULL;
    *len = 0;
    /* A build starts from the diagnostics of adding files (I/O errors) only. */
    size_t keep = 0;
    for (size_t i = 0; i < c->diags.n; i++) {
        if (c->diags.v[i].code == VP_D_IO) {
            c->diags.v[keep++] = c->diags.v[i];
        } else {
            free(c->diags.v[i].file);
            free(c->diags.v[i].message);
        }
    }
    c->diags.n = keep;
    c->diags.errors = keep;

    vp_src_file *files = calloc(c->n_sources ? c->n_sources : 1, sizeof(vp_src_file));
    if (!files)
        return VP_E_NOMEM;
    vp_status st = VP_OK;
    size_t n_files = 0;
    for (size_t i = 0; i < c->n_sources && st == VP_OK; i++) {
        if (c->sources[i].unreadable)
            continue;
        if (vp_reader_parse(c->sources[i].name, c->sources[i].text, c->sources[i].len,
                            &files[n_files], &c->diags) != 0)
            st = VP_E_NOMEM;
        n_files++;
    }
    vp_model m;
    memset(&m, 0, sizeof(m));
    uint64_t serial = c->serial_set ? c->serial : (uint64_t)time(NULL);
    if (st == VP_OK && vp_plan_build(files, n_files, serial, &m, &c->diags) != 0)
        st = VP_E_NOMEM;
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (st == VP_OK && !c->diags.errors)
        st = emit_bundle(c, &m, &bytes, &n);
    if (st == VP_OK && bytes && c->run_tests && vp_testrun(files, n_files, bytes, n, &c->diags) != 0)
        st = VP_E_COMPILE;
    vp_model_free(&m);
    for (size_t i = 0; i < n_files; i++)
        vp_src_file_free(&files[i]);
    free(files);
    sort_diags(c);
    if (st == VP_OK && (c->diags.errors || c->diags.oom))
        st = c->diags.oom ? VP_E_NOMEM : VP_E_COMPILE;
    if (st != VP_OK) {
        free(bytes);
        return st;
    }
    *bundle = bytes;
    *len = n;
    return VP_OK;
}

VP_API void vp_compiler_bundle_free(uint8_t *bundle)
{
    free(bundle);
}

VP_API size_t vp_compiler_diag_count(const vp_compiler_t *c)
{
    return c ? c->diags.n : 0;
}

VP_API size_t vp_compiler_error_count(const vp_compiler_t *c)
{
    return c ? c->diags.errors : 0;
}

VP_API vp_status vp_compiler_diag_at(const vp_compiler_t *c, size_t i, vp_diagnostic_t *out)
{
    if (!c || !out || i >= c->diags.n || out->size < sizeof(size_t))
        return VP_E_INVALID;
    const vp_diag *d = &c->diags.v[i];
    vp_diagnostic_t full;
    full.size = out->size;
    full.severity = d->severity;
    full.code = d->code;
    full.file = d->file ? d->file : "";
    full.line = d->line;
    full.column = d->col;
    full.rule_id = d->rule_id;
    full.message = d->message ? d->message : "";
    memcpy(out, &full, out->size < sizeof(full) ? out->size : sizeof(full));
    return VP_OK;
}

VP_API size_t vp_compiler_diag_format(const vp_compiler_t *c, size_t i, char *buf, size_t cap)
{
    if (!c || i >= c->diags.n)
        return 0;
    const vp_diag *d = &c->diags.v[i];
    const char *sev = d->severity == VP_DIAG_WARNING ? "warning: " : "";
    const char *file = d->file && *d->file ? d->file : "rulec";
    int n;
    if (d->line)
        n = snprintf(buf, cap, "%s:%u:%u: %s%s", file, d->line, d->col, sev, d->message);
    else
        n = snprintf(buf, cap, "%s: %s%s", file, sev, d->message);
    return n < 0 ? 0 : (size_t)n;
}
