/* Load options: which signers are trusted, the oldest serial accepted, and
 * how the pattern database may be chosen. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/signing.h"
#include "internal.h"

VP_API vp_status vp_load_options_create(vp_load_options_t **out)
{
    if (!out)
        return VP_E_INVALID;
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return VP_E_NOMEM;
    (*out)->allow_recompile = 1;
    return VP_OK;
}

VP_API void vp_load_options_free(vp_load_options_t *o)
{
    if (!o)
        return;
    free(o->keys);
    free(o);
}

VP_API vp_status vp_load_options_add_trusted_key(vp_load_options_t *o, const uint8_t key[32])
{
    if (!o || !key)
        return VP_E_INVALID;
    uint8_t (*keys)[32] = realloc(o->keys, (o->n_keys + 1) * sizeof(*keys));
    if (!keys)
        return VP_E_NOMEM;
    memcpy(keys[o->n_keys++], key, 32);
    o->keys = keys;
    return VP_OK;
}

VP_API vp_status vp_load_options_add_trusted_key_file(vp_load_options_t *o, const char *path,
                                                      vp_error_t **err)
{
    if (err)
        *err = NULL;
    if (!o || !path)
        return vp_error_set(err, VP_E_INVALID, -1, "options or path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return vp_error_set(err, VP_E_IO, -1, "%s: %s", path, strerror(errno));
    char text[256];
    size_t n = fread(text, 1, sizeof(text), f);
    fclose(f);
    uint8_t key[VP_PUBKEY_BYTES];
    if (n == sizeof(text) || vp_keyfile_parse(text, n, 0, key, sizeof(key)) != 0)
        return vp_error_set(err, VP_E_INVALID, -1,
                            "%s: not a public key file (expected \"vpatch-ed25519-public <64 hex "
                            "digits>\")", path);
    return vp_load_options_add_trusted_key(o, key);
}

VP_API vp_status vp_load_options_set_min_serial(vp_load_options_t *o, uint64_t serial)
{
    if (!o)
        return VP_E_INVALID;
    o->min_serial = serial;
    return VP_OK;
}

VP_API vp_status vp_load_options_set_allow_recompile(vp_load_options_t *o, int allow)
{
    if (!o || (allow != 0 && allow != 1))
        return VP_E_INVALID;
    o->allow_recompile = allow;
    return VP_OK;
}

VP_API vp_status vp_load_options_set_flags(vp_load_options_t *o, unsigned flags)
{
    if (!o || (flags & ~(VP_LOAD_BASELINE_ONLY | VP_LOAD_FORCE_RECOMPILE)))
        return VP_E_INVALID;
    o->flags = flags;
    return VP_OK;
}
