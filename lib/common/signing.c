#include "signing.h"

#include <sodium.h>
#include <string.h>

#include "bytes.h"

static const char *const key_prefix[2] = {"vpatch-ed25519-public ", "vpatch-ed25519-secret "};

int vp_signing_digest(const uint8_t *data, const vp_bundle_header_info *h, uint8_t out[32])
{
    if (sodium_init() < 0)
        return -1;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    /* Header identity: magic, major, minor, flags, serial (offsets 0..23). */
    crypto_generichash_update(&st, data, VP_BUNDLE_OFF_SERIAL + 8);
    for (uint32_t i = 0; i < h->section_count; i++) {
        const vp_bundle_section_info *s = &h->sections[i];
        if (s->type == VP_SECT_SIGNATURE)
            continue;
        uint8_t meta[16];
        vp_store_le32(meta, s->type);
        vp_store_le32(meta + 4, s->flags);
        vp_store_le64(meta + 8, s->size);
        crypto_generichash_update(&st, meta, sizeof(meta));
        crypto_generichash_update(&st, data + s->offset, (size_t)s->size);
    }
    crypto_generichash_final(&st, out, 32);
    return 0;
}

int vp_key_id(const uint8_t pk[VP_PUBKEY_BYTES], uint8_t id[VP_KEY_ID_BYTES])
{
    if (sodium_init() < 0)
        return -1;
    return crypto_generichash(id, VP_KEY_ID_BYTES, pk, VP_PUBKEY_BYTES, NULL, 0);
}

void vp_key_id_hex(const uint8_t id[VP_KEY_ID_BYTES], char out[2 * VP_KEY_ID_BYTES + 1])
{
    sodium_bin2hex(out, 2 * VP_KEY_ID_BYTES + 1, id, VP_KEY_ID_BYTES);
}

int vp_sig_parse(const uint8_t *p, uint64_t size, vp_sig *out)
{
    if (size != VP_SIG_SECTION_SIZE)
        return -1;
    out->alg = vp_load_le32(p);
    if (out->alg != VP_SIG_ALG_ED25519 || vp_load_le32(p + 4) != 0)
        return -1;
    memcpy(out->key_id, p + 8, VP_KEY_ID_BYTES);
    memcpy(out->pubkey, p + 8 + VP_KEY_ID_BYTES, VP_PUBKEY_BYTES);
    memcpy(out->sig, p + 8 + VP_KEY_ID_BYTES + VP_PUBKEY_BYTES, VP_SIG_BYTES);
    return 0;
}

void vp_sig_write(uint8_t out[VP_SIG_SECTION_SIZE], const vp_sig *s)
{
    vp_store_le32(out, s->alg);
    vp_store_le32(out + 4, 0);
    memcpy(out + 8, s->key_id, VP_KEY_ID_BYTES);
    memcpy(out + 8 + VP_KEY_ID_BYTES, s->pubkey, VP_PUBKEY_BYTES);
    memcpy(out + 8 + VP_KEY_ID_BYTES + VP_PUBKEY_BYTES, s->sig, VP_SIG_BYTES);
}

int vp_keyfile_parse(const char *text, size_t len, int secret, uint8_t *key, size_t n)
{
    const char *prefix = key_prefix[secret ? 1 : 0];
    size_t plen = strlen(prefix);
    if (len < plen || memcmp(text, prefix, plen) != 0)
        return -1;
    const char *hex = text + plen;
    size_t hlen = len - plen;
    while (hlen && (hex[hlen - 1] == '\n' || hex[hlen - 1] == '\r'))
        hlen--;
    size_t got = 0;
    const char *end = NULL;
    if (hlen != 2 * n || sodium_hex2bin(key, n, hex, hlen, NULL, &got, &end) != 0 || got != n ||
        end != hex + hlen)
        return -1;
    return 0;
}

size_t vp_keyfile_format(char *buf, size_t cap, int secret, const uint8_t *key, size_t n)
{
    const char *prefix = key_prefix[secret ? 1 : 0];
    size_t plen = strlen(prefix);
    size_t need = plen + 2 * n + 1;
    if (cap < need + 1)
        return 0;
    memcpy(buf, prefix, plen);
    sodium_bin2hex(buf + plen, 2 * n + 1, key, n);
    buf[need - 1] = '\n';
    buf[need] = '\0';
    return need;
}
