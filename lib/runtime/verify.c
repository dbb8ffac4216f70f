/* Trust policy of a load: rollback protection and the signature check.  Runs
 * on the validated section table, before any section is decoded or any
 * Hyperscan database deserialized. */
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "../common/signing.h"
#include "internal.h"

static const vp_bundle_section_info *find(const vp_bundle_header_info *h, uint32_t type)
{
    for (uint32_t i = 0; i < h->section_count; i++)
        if (h->sections[i].type == type)
            return &h->sections[i];
    return NULL;
}

static int key_trusted(const vp_load_options_t *o, const uint8_t pk[32])
{
    for (size_t i = 0; i < o->n_keys; i++)
        if (sodium_memcmp(o->keys[i], pk, 32) == 0)
            return 1;
    return 0;
}

vp_status vp_verify_bundle(const uint8_t *data, const vp_bundle_header_info *h,
                           const vp_load_options_t *o, char key_id[17], vp_error_t **err)
{
    key_id[0] = '\0';
    if (h->serial < o->min_serial)
        return vp_error_set(err, VP_E_ROLLBACK, VP_BUNDLE_OFF_SERIAL,
                            "bundle serial %" PRIu64 " is older than the oldest accepted (%" PRIu64
                            ")", h->serial, o->min_serial);
    const vp_bundle_section_info *s = find(h, VP_SECT_SIGNATURE);
    vp_sig sig;
    if (s) {
        if (vp_sig_parse(data + s->offset, s->size, &sig) != 0)
            return vp_error_set(err, VP_E_SIGNATURE, (int64_t)s->offset,
                                "signature section is malformed");
        vp_key_id_hex(sig.key_id, key_id);
    }
    if (o->n_keys == 0)
        return VP_OK;
    if (!s)
        return vp_error_set(err, VP_E_SIGNATURE, -1,
                            "bundle is not signed, but trusted keys are configured");
    uint8_t id[VP_KEY_ID_BYTES];
    if (vp_key_id(sig.pubkey, id) != 0)
        return vp_error_set(err, VP_E_NOMEM, -1, "libsodium cannot be initialised");
    if (memcmp(id, sig.key_id, sizeof(id)) != 0)
        return vp_error_set(err, VP_E_SIGNATURE, (int64_t)s->offset + 8,
                            "signature key id does not belong to its public key");
    if (!key_trusted(o, sig.pubkey))
        return vp_error_set(err, VP_E_SIGNATURE, (int64_t)s->offset + 8,
                            "bundle is signed by key %s, which is not trusted", key_id);
    uint8_t digest[32];
    if (vp_signing_digest(data, h, digest) != 0)
        return vp_error_set(err, VP_E_NOMEM, -1, "libsodium cannot be initialised");
    if (crypto_sign_verify_detached(sig.sig, digest, sizeof(digest), sig.pubkey) != 0)
        return vp_error_set(err, VP_E_SIGNATURE, (int64_t)s->offset + 8 + VP_KEY_ID_BYTES + 32,
                            "signature by key %s does not verify: the bundle was altered", key_id);
    return VP_OK;
}
