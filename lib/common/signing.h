/*
 * Bundle signatures (Ed25519 through libsodium) and key files.
 *
 * The signature covers a BLAKE2b-256 digest of the header identity (magic,
 * version, flags, serial) and of every section except SIGNATURE itself, in
 * table order: type, flags, size and content.  Section offsets are left out,
 * so adding the signature section does not change what was signed.
 */
#ifndef VP_COMMON_SIGNING_H
#define VP_COMMON_SIGNING_H

#include <stddef.h>
#include <stdint.h>

#include "bundle_codec.h"

#define VP_PUBKEY_BYTES 32
#define VP_SECKEY_BYTES 64
#define VP_SIG_BYTES 64
#define VP_KEY_ID_BYTES 8
#define VP_SIG_ALG_ED25519 1u
#define VP_SIG_SECTION_SIZE (8 + VP_KEY_ID_BYTES + VP_PUBKEY_BYTES + VP_SIG_BYTES)

typedef struct vp_sig {
    uint32_t alg;
    uint8_t key_id[VP_KEY_ID_BYTES];
    uint8_t pubkey[VP_PUBKEY_BYTES];
    uint8_t sig[VP_SIG_BYTES];
} vp_sig;

/* 0 on success; -1 when libsodium cannot be initialised. */
int vp_signing_digest(const uint8_t *data, const vp_bundle_header_info *h, uint8_t out[32]);
/* Short identity of a public key: the first 8 bytes of its BLAKE2b hash. */
int vp_key_id(const uint8_t pk[VP_PUBKEY_BYTES], uint8_t id[VP_KEY_ID_BYTES]);
void vp_key_id_hex(const uint8_t id[VP_KEY_ID_BYTES], char out[2 * VP_KEY_ID_BYTES + 1]);

/* SIGNATURE section content: u32 alg, u32 reserved, key id, public key, signature. */
int vp_sig_parse(const uint8_t *p, uint64_t size, vp_sig *out);
void vp_sig_write(uint8_t out[VP_SIG_SECTION_SIZE], const vp_sig *s);

/* Key files are one line: "vpatch-ed25519-public <hex>" or
 * "vpatch-ed25519-secret <hex>".  Parse returns 0 when the text holds a key
 * of that kind and exactly n bytes. */
int vp_keyfile_parse(const char *text, size_t len, int secret, uint8_t *key, size_t n);
/* Writes the line (with newline) into buf; returns its length, or 0 if cap is short. */
size_t vp_keyfile_format(char *buf, size_t cap, int secret, const uint8_t *key, size_t n);

#endif
