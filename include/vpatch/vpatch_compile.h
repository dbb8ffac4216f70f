/*
 * libvpatch-compile — turns YAML rule sources into bundles.
 *
 * `rulec` and the language bindings are thin shells over this API.  A compiler
 * object collects sources, then builds a bundle in memory.  Every problem in
 * every source is recorded as a structured diagnostic (severity, stable code,
 * file, 1-based line and column, rule id, message); the build fails with
 * VP_E_COMPILE when any diagnostic is an error and then produces no bundle.
 *
 * A compiler object is used by one thread at a time; distinct objects are
 * independent.
 */
#ifndef VPATCH_COMPILE_H
#define VPATCH_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "vpatch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vp_diag_severity { VP_DIAG_ERROR = 1, VP_DIAG_WARNING = 2 } vp_diag_severity;

/** Stable diagnostic codes (values never reused). */
typedef enum vp_diag_code {
    VP_D_IO = 1,             /**< source cannot be read */
    VP_D_YAML = 2,           /**< YAML syntax error */
    VP_D_STRUCTURE = 3,      /**< wrong node kind (mapping/list/scalar expected) */
    VP_D_MISSING = 4,        /**< required field absent */
    VP_D_UNKNOWN_FIELD = 5,  /**< field not in the language and not x- */
    VP_D_TYPE = 6,           /**< value of the wrong type or out of range */
    VP_D_DUPLICATE_ID = 7,   /**< rule id used twice */
    VP_D_FORMAT = 8,         /**< unsupported `format` */
    VP_D_CONDITION = 9,      /**< invalid combination inside a condition */
    VP_D_REGEX = 10,         /**< regex rejected by Hyperscan */
    VP_D_TEST_FAILED = 11,   /**< an embedded rule test gave the wrong result */
    VP_D_MODES = 12,         /**< modes warning (performance without security) */
    VP_D_UNSUPPORTED = 13,   /**< valid idea, not supported by this version */
    VP_D_DUPLICATE_KEY = 14, /**< a mapping key given twice */
    VP_D_LIMIT = 15,         /**< a limit of the engine is exceeded */
    VP_D_INTERNAL = 16       /**< Hyperscan or allocation failure while building */
} vp_diag_code;

/** One diagnostic; set `size` to sizeof(vp_diagnostic_t) before the call. */
typedef struct vp_diagnostic {
    size_t size;
    vp_diag_severity severity;
    vp_diag_code code;
    const char *file;     /**< source name; "" when not tied to a file */
    uint32_t line;        /**< 1-based; 0 when unknown */
    uint32_t column;      /**< 1-based; 0 when unknown */
    uint32_t rule_id;     /**< 0 when not inside a rule */
    const char *message;  /**< without the FILE:LINE:COL prefix */
} vp_diagnostic_t;

typedef struct vp_compiler vp_compiler_t;

VP_API vp_status vp_compiler_create(vp_compiler_t **out);
VP_API void vp_compiler_free(vp_compiler_t *c);

/** Adds a source file.  Read errors become diagnostics (VP_D_IO), not failures;
 *  the call fails only on bad arguments or out of memory. */
VP_API vp_status vp_compiler_add_file(vp_compiler_t *c, const char *path);
/** Adds a source held in memory; `name` is used in diagnostics. */
VP_API vp_status vp_compiler_add_memory(vp_compiler_t *c, const char *name, const void *yaml,
                                        size_t len);
/** Bundle serial (default: current UNIX time at build). */
VP_API vp_status vp_compiler_set_serial(vp_compiler_t *c, uint64_t serial);
/** Whether embedded rule tests run during build (default 1). */
VP_API vp_status vp_compiler_set_run_tests(vp_compiler_t *c, int run_tests);

/** Signs the bundle with an Ed25519 secret key (64 bytes, libsodium layout). */
VP_API vp_status vp_compiler_set_signing_key(vp_compiler_t *c, const uint8_t secret_key[64]);
/** Signs with the key in a `.key` file written by vp_compiler_keygen / `rulec keygen`. */
VP_API vp_status vp_compiler_set_signing_key_file(vp_compiler_t *c, const char *path,
                                                  vp_error_t **err);
/** Whether the bundle also carries databases tuned for AVX2 and AVX-512 CPUs
 *  next to the baseline one (default 1). */
VP_API vp_status vp_compiler_set_cpu_variants(vp_compiler_t *c, int enable);
/** Creates a signing key pair: NAME.key (secret, mode 0600) and NAME.pub. */
VP_API vp_status vp_compiler_keygen(const char *name, vp_error_t **err);

/** Compiles all sources.  On success *bundle (free with vp_compiler_bundle_free)
 *  holds the bundle bytes.  VP_E_COMPILE when any error diagnostic exists. */
VP_API vp_status vp_compiler_build(vp_compiler_t *c, uint8_t **bundle, size_t *len);
VP_API void vp_compiler_bundle_free(uint8_t *bundle);

VP_API size_t vp_compiler_diag_count(const vp_compiler_t *c);
VP_API size_t vp_compiler_error_count(const vp_compiler_t *c);
/** Diagnostic i in the order found (by file, then position). */
VP_API vp_status vp_compiler_diag_at(const vp_compiler_t *c, size_t i, vp_diagnostic_t *out);
/** Formats diagnostic i as "FILE:LINE:COL: [warning: ]message" into buf
 *  (always NUL-terminated); returns the length it needed. */
VP_API size_t vp_compiler_diag_format(const vp_compiler_t *c, size_t i, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* VPATCH_COMPILE_H */
