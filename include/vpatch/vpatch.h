/*
 * libvpatch — virtual patching engine: runtime API.
 *
 * A host loads a compiled rule bundle, creates an engine for a protection mode,
 * opens one stream per flow direction and scans the stream's bytes chunk by
 * chunk.  Every rule that becomes true produces one event through a callback
 * and may turn the stream's verdict to BLOCK.
 *
 * Threading: bundles and engines are immutable once created and may be shared
 * by any number of threads.  A scratch belongs to one thread at a time (using
 * one concurrently is detected and refused).  A stream is used by one thread at
 * a time.
 *
 * Errors: every function that can fail returns a vp_status.  Functions taking a
 * `vp_error_t **err` fill it (when err is not NULL) with an error object giving
 * a message and, for bundles, the byte offset of the fault; free it with
 * vp_error_free().  The library never prints, aborts or exits.
 */
#ifndef VPATCH_H
#define VPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "vpatch_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VPATCH_BUILDING) && defined(__GNUC__)
#define VP_API __attribute__((visibility("default")))
#else
#define VP_API
#endif

/** Status codes.  Values are fixed and never reused. */
typedef enum vp_status {
    VP_OK = 0,
    VP_E_INVALID = 1,          /**< bad argument (NULL, unknown flag, bad name) */
    VP_E_NOMEM = 2,            /**< out of memory */
    VP_E_IO = 3,               /**< file could not be read or written */
    VP_E_BUNDLE_FORMAT = 4,    /**< bundle is malformed or truncated */
    VP_E_BUNDLE_VERSION = 5,   /**< bundle format major version not supported */
    VP_E_BUNDLE_CHECKSUM = 6,  /**< a section checksum does not match */
    VP_E_BUNDLE_PLATFORM = 7,  /**< a database does not fit this Hyperscan/CPU */
    VP_E_SIGNATURE = 8,        /**< bundle signature missing or invalid */
    VP_E_UNKNOWN_RULE = 9,     /**< a rule id named in options is not in the bundle */
    VP_E_SCRATCH_IN_USE = 10,  /**< scratch used by two threads at once */
    VP_E_STREAM_CLOSED = 11,   /**< stream already closed */
    VP_E_HYPERSCAN = 12,       /**< Hyperscan reported an unexpected error */
    VP_E_COMPILE = 13,         /**< rule sources have errors (compiler API) */
    VP_E_ROLLBACK = 14,        /**< bundle serial older than the host accepts */
    VP_E_SCRATCH_MISMATCH = 15 /**< scratch was made for another engine */
} vp_status;

/** Short stable name of a status, e.g. "VP_E_INVALID".  Never NULL. */
VP_API const char *vp_status_str(vp_status status);

/** Library version as "MAJOR.MINOR.PATCH" and as MAJOR*10000+MINOR*100+PATCH. */
VP_API const char *vp_version(void);
VP_API unsigned vp_version_number(void);

/* ------------------------------------------------------------------ errors */

typedef struct vp_error vp_error_t;

/** Human-readable message; never NULL for a non-NULL error. */
VP_API const char *vp_error_message(const vp_error_t *err);
/** Status the error belongs to. */
VP_API vp_status vp_error_status(const vp_error_t *err);
/** Byte offset in the bundle where loading failed, or -1 when not applicable. */
VP_API int64_t vp_error_offset(const vp_error_t *err);
/** Frees an error; accepts NULL and the library's static out-of-memory error. */
VP_API void vp_error_free(vp_error_t *err);

/* ------------------------------------------------------------------ enums */

typedef enum vp_mode { VP_MODE_PERFORMANCE = 1, VP_MODE_SECURITY = 2 } vp_mode;
typedef enum vp_action { VP_ACTION_BLOCK = 1, VP_ACTION_DETECT = 2 } vp_action;
typedef enum vp_verdict { VP_VERDICT_ALLOW = 0, VP_VERDICT_BLOCK = 1 } vp_verdict;
typedef enum vp_proto { VP_PROTO_TCP = 6, VP_PROTO_UDP = 17 } vp_proto;
typedef enum vp_direction {
    VP_DIR_TO_SERVER = 1,
    VP_DIR_TO_CLIENT = 2,
    VP_DIR_ANY = 3 /**< only in rule metadata; streams have one direction */
} vp_direction;
/** Application protocol a rule needs its stream to carry (rule field
 *  `service`); see docs/rule-format.md, "Services". */
typedef enum vp_service {
    VP_SERVICE_ANY = 0,  /**< any traffic on the rule's ports */
    VP_SERVICE_HTTP = 1  /**< only streams recognised as HTTP */
} vp_service;
typedef enum vp_severity {
    VP_SEV_LOW = 1, VP_SEV_MEDIUM = 2, VP_SEV_HIGH = 3, VP_SEV_CRITICAL = 4
} vp_severity;
/** How a rule's events are thinned out per tracked host and period (rule
 *  field `threshold`); applied by the host with vp_alert_filter, see
 *  docs/rule-format.md, "Thresholds". */
typedef enum vp_threshold_type {
    VP_THRESHOLD_NONE = 0,
    VP_THRESHOLD_LIMIT = 1,     /**< the first `count` events of a period */
    VP_THRESHOLD_THRESHOLD = 2, /**< every `count`-th event of a period */
    VP_THRESHOLD_BOTH = 3,      /**< the `count`-th event of a period only */
    VP_THRESHOLD_DETECTION_FILTER = 4 /**< every event after the `count`-th of a period */
} vp_threshold_type;
/** What a threshold counts events per. */
typedef enum vp_track {
    VP_TRACK_BY_SRC = 1,   /**< the sender of the stream the event came from */
    VP_TRACK_BY_DST = 2,   /**< its receiver */
    VP_TRACK_BY_BOTH = 3,  /**< the pair of addresses, either way round */
    VP_TRACK_BY_RULE = 4   /**< the rule alone */
} vp_track;

/** Mode bits in vp_rule_info_t.modes. */
#define VP_MODE_BIT(m) (1u << (unsigned)(m))

VP_API const char *vp_mode_str(vp_mode m);
VP_API const char *vp_action_str(vp_action a);
VP_API const char *vp_verdict_str(vp_verdict v);
VP_API const char *vp_severity_str(vp_severity s);
VP_API const char *vp_direction_str(vp_direction d);
/** "limit", "threshold", "both", "detection_filter" ("none", "unknown"). */
VP_API const char *vp_threshold_type_str(vp_threshold_type t);
/** "by_src", "by_dst", "by_both", "by_rule" ("unknown"). */
VP_API const char *vp_track_str(vp_track t);
/** Parses "performance" / "security"; VP_E_INVALID for anything else. */
VP_API vp_status vp_mode_parse(const char *name, vp_mode *out);

/* ------------------------------------------------------------------ bundles */

typedef struct vp_bundle vp_bundle_t;

/** Loads and fully validates a bundle file.  *out is NULL on failure. */
VP_API vp_status vp_bundle_load_file(const char *path, vp_bundle_t **out, vp_error_t **err);
/** Same from memory; the data is copied as needed and may be freed afterwards. */
VP_API vp_status vp_bundle_load_memory(const void *data, size_t len, vp_bundle_t **out,
                                       vp_error_t **err);
/** Options for loading a bundle: trust and rollback policy, database choice.
 *  Defaults: no keys (signatures not required), any serial, recompiling from
 *  the bundle's pattern data allowed when no shipped database fits. */
typedef struct vp_load_options vp_load_options_t;

VP_API vp_status vp_load_options_create(vp_load_options_t **out);
VP_API void vp_load_options_free(vp_load_options_t *opts);
/** Trusts an Ed25519 public key (32 raw bytes).  Once any key is trusted, a
 *  bundle must carry a valid signature by one of the trusted keys. */
VP_API vp_status vp_load_options_add_trusted_key(vp_load_options_t *opts, const uint8_t key[32]);
/** Trusts the key in a `.pub` file written by `rulec keygen`. */
VP_API vp_status vp_load_options_add_trusted_key_file(vp_load_options_t *opts, const char *path,
                                                      vp_error_t **err);
/** Refuses bundles whose serial is lower (VP_E_ROLLBACK). */
VP_API vp_status vp_load_options_set_min_serial(vp_load_options_t *opts, uint64_t serial);
/** 0 forbids recompiling patterns when no shipped database fits this system
 *  (then such a bundle is refused with VP_E_BUNDLE_PLATFORM). */
VP_API vp_status vp_load_options_set_allow_recompile(vp_load_options_t *opts, int allow);

/** Database choice flags, for tests and diagnosis (default 0: the best
 *  shipped database this CPU supports, else the baseline, else recompile). */
#define VP_LOAD_BASELINE_ONLY 1u   /**< ignore CPU-specific databases */
#define VP_LOAD_FORCE_RECOMPILE 2u /**< ignore every shipped database */
VP_API vp_status vp_load_options_set_flags(vp_load_options_t *opts, unsigned flags);

/** Like vp_bundle_load_file / vp_bundle_load_memory with options (NULL = defaults). */
VP_API vp_status vp_bundle_load_file_ex(const char *path, const vp_load_options_t *opts,
                                        vp_bundle_t **out, vp_error_t **err);
VP_API vp_status vp_bundle_load_memory_ex(const void *data, size_t len,
                                          const vp_load_options_t *opts, vp_bundle_t **out,
                                          vp_error_t **err);

/** Releases the caller's reference; engines made from it keep their own. NULL ok. */
VP_API void vp_bundle_free(vp_bundle_t *bundle);

VP_API uint64_t vp_bundle_serial(const vp_bundle_t *bundle);
/** Ruleset name from the sources ("" when none). */
VP_API const char *vp_bundle_ruleset(const vp_bundle_t *bundle);
VP_API size_t vp_bundle_rule_count(const vp_bundle_t *bundle);

/** Layout facts about a loaded bundle (for inspection tools); set `size` to
 *  sizeof(vp_bundle_stats_t) before the call. */
typedef struct vp_bundle_stats {
    size_t size;
    unsigned format_major, format_minor;
    uint64_t file_size;          /**< bytes of the bundle */
    size_t section_count;
    size_t rule_count;
    size_t condition_count;
    size_t pattern_count;        /**< distinct Hyperscan expressions */
    size_t database_bytes;       /**< serialized Hyperscan database */
    int is_signed;               /**< 1 when a signature section is present */
    char key_id[17];             /**< signing key id (16 hex digits), "" when unsigned */
    const char *database;        /**< database in use: "baseline", "avx2", "avx512",
                                      "avx512vbmi", "recompiled" or "none" */
    double load_ms;              /**< time vp_bundle_load_* took */
} vp_bundle_stats_t;

VP_API vp_status vp_bundle_stats(const vp_bundle_t *bundle, vp_bundle_stats_t *stats);
/** Section i (0..section_count-1) in table order: its name and size in bytes. */
VP_API vp_status vp_bundle_section_at(const vp_bundle_t *bundle, size_t i, const char **name,
                                      uint64_t *size);

/** Rule metadata.  Set `size` to sizeof(vp_rule_info_t) before the call; the
 *  struct only grows at the end.  Strings point into the bundle and live as
 *  long as it (or an engine made from it) does. */
typedef struct vp_rule_info {
    size_t size;
    uint32_t id;
    const char *name;
    const char *description;       /**< "" when absent */
    const char *const *cves;
    size_t cve_count;
    const char *const *references;
    size_t reference_count;
    const char *const *tags;
    size_t tag_count;
    vp_severity severity;
    double cvss;                   /**< -1 when absent */
    unsigned modes;                /**< VP_MODE_BIT(VP_MODE_*) set */
    vp_action action;
    vp_proto proto;
    vp_direction direction;
    size_t condition_count;
    vp_service service;            /**< since 1.4 bundles; VP_SERVICE_ANY before */
    int noalert;                   /**< 1: fires without events (flowbits setters) */
    size_t flowbit_count;          /**< flowbit operations (set, isset, ...) */
    vp_threshold_type threshold_type; /**< since 1.6 bundles; NONE: every event counts */
    vp_track threshold_track;
    uint32_t threshold_count;
    uint32_t threshold_seconds;
} vp_rule_info_t;

/** Metadata of the rule at index 0..count-1 (bundle order). */
VP_API vp_status vp_bundle_rule_at(const vp_bundle_t *bundle, size_t index, vp_rule_info_t *info);
/** Metadata by id; VP_E_UNKNOWN_RULE when the bundle has no such rule. */
VP_API vp_status vp_bundle_rule_by_id(const vp_bundle_t *bundle, uint32_t id, vp_rule_info_t *info);

/* ------------------------------------------------------------------ engines */

typedef struct vp_engine_options vp_engine_options_t;
typedef struct vp_engine vp_engine_t;

/** Options default to: security mode, no overrides, block actions honoured. */
VP_API vp_status vp_engine_options_create(vp_engine_options_t **out);
VP_API void vp_engine_options_free(vp_engine_options_t *opts);
VP_API vp_status vp_engine_options_set_mode(vp_engine_options_t *opts, vp_mode mode);
/** Adds rule ids to enable on top of the mode (a later disable of the same id wins). */
VP_API vp_status vp_engine_options_enable(vp_engine_options_t *opts, const uint32_t *ids, size_t n);
/** Adds rule ids to disable (wins over the mode and over enable). */
VP_API vp_status vp_engine_options_disable(vp_engine_options_t *opts, const uint32_t *ids, size_t n);
/** Detect-only: events are reported but no verdict turns to BLOCK. */
VP_API vp_status vp_engine_options_set_detect_only(vp_engine_options_t *opts, int detect_only);

/** HTTP inspection limits (0 keeps the default): bytes of start line and
 *  header block kept per message (default 8192; a longer header is truncated
 *  and reported as the anomaly http.header.limit), decoded body bytes
 *  inspected per message (default 1 MiB; inflating also stops there), bytes
 *  inflated per compressed body (default 4 MiB; beyond it, or beyond a 1000:1
 *  ratio, inflating stops and http.body.decompression_limit is reported).
 *  header_bytes must be 64..64 MiB. */
VP_API vp_status vp_engine_options_set_http_limits(vp_engine_options_t *opts, size_t header_bytes,
                                                   size_t body_bytes, size_t decompressed_bytes);

/** Per-rule profiling (default 0): the engine counts, for every rule, how
 *  often its patterns are found, how often it fires, and the time spent
 *  evaluating its conditions.  Costs a clock read per pattern match. */
VP_API vp_status vp_engine_options_set_profiling(vp_engine_options_t *opts, int enable);

/** Creates an immutable engine.  opts may be NULL (defaults).  An id in the
 *  enable/disable lists that the bundle lacks gives VP_E_UNKNOWN_RULE.  When
 *  the selection uses at most three quarters of a buffer's patterns, the
 *  engine compiles a database of just those (so a small mode scans faster);
 *  a scratch then needs vp_scratch_alloc/vp_scratch_reserve for this engine. */
VP_API vp_status vp_engine_create(vp_bundle_t *bundle, const vp_engine_options_t *opts,
                                  vp_engine_t **out, vp_error_t **err);
/** Releases the host's reference.  Streams opened on the engine hold their
 *  own reference, so an engine may be freed (e.g. replaced by a newer one in
 *  a hot reload) while its streams finish; it goes away with its last stream.
 *  Safe to call while other threads scan streams of this engine. NULL ok. */
VP_API void vp_engine_free(vp_engine_t *engine);
/** 1 when the rule is active in this engine, 0 otherwise. */
VP_API int vp_engine_rule_enabled(const vp_engine_t *engine, uint32_t id);
VP_API size_t vp_engine_enabled_count(const vp_engine_t *engine);
/** Bundle the engine runs (borrowed). */
VP_API const vp_bundle_t *vp_engine_bundle(const vp_engine_t *engine);
/** Profile of one rule (see vp_engine_options_set_profiling); set `size`. */
typedef struct vp_rule_profile {
    size_t size;
    uint32_t rule_id;
    uint64_t pattern_hits;  /**< matches of the rule's patterns that were evaluated */
    uint64_t fires;         /**< events */
    uint64_t confirm_ns;    /**< time evaluating those matches */
} vp_rule_profile_t;

/** Profile of the rule at bundle index 0..rule_count-1 (counts across all
 *  streams of the engine so far).  VP_E_INVALID when profiling is off. */
VP_API vp_status vp_engine_profile_at(const vp_engine_t *engine, size_t index,
                                      vp_rule_profile_t *out);

/** Bytes one open stream costs when opened, Hyperscan stream state included.
 *  Partial matches add state on demand (bounded by the rule set; see
 *  vp_stream_stats), and the HTTP side is added at the first byte of streams
 *  that HTTP rules apply to. */
VP_API size_t vp_engine_stream_size(const vp_engine_t *engine);

/* ------------------------------------------------------------------ scratch */

typedef struct vp_scratch vp_scratch_t;

/** Per-thread working memory for one engine. */
VP_API vp_status vp_scratch_alloc(const vp_engine_t *engine, vp_scratch_t **out);
/** Makes an existing scratch usable with another engine as well (for hot
 *  reload: one scratch per thread serves the old and the new engine). */
VP_API vp_status vp_scratch_reserve(vp_scratch_t *scratch, const vp_engine_t *engine);
VP_API void vp_scratch_free(vp_scratch_t *scratch);

/* ------------------------------------------------------------------ streams */

/** One detection. */
typedef struct vp_event {
    uint32_t rule_id;
    uint64_t offset;       /**< stream offset where the rule became true */
    vp_action action;      /**< the rule's action */
    vp_verdict verdict;    /**< BLOCK when this event blocks the stream */
    vp_direction direction;
} vp_event_t;

/** Event callback; called synchronously from scan, gap, close and datagram calls. */
typedef void (*vp_event_cb)(const vp_event_t *event, void *ctx);

typedef struct vp_stream vp_stream_t;

/** Opens a stream for one direction (VP_DIR_TO_SERVER or VP_DIR_TO_CLIENT) of a
 *  flow whose server-side port is `server_port`.  cb may be NULL. */
VP_API vp_status vp_stream_open(const vp_engine_t *engine, vp_proto proto, uint16_t server_port,
                                vp_direction direction, vp_event_cb cb, void *ctx,
                                vp_stream_t **out);
/** Scans the next `len` bytes of the stream.  Data is not retained. */
VP_API vp_status vp_stream_scan(vp_stream_t *stream, const void *data, size_t len,
                                vp_scratch_t *scratch);
/** Reports `len` lost bytes: offsets advance, nothing matches across the gap. */
VP_API vp_status vp_stream_gap(vp_stream_t *stream, uint64_t len, vp_scratch_t *scratch);
/** Ends the stream: decides end-of-stream conditions (negations) and reports
 *  their events.  Afterwards only verdict/offset queries and free are allowed. */
VP_API vp_status vp_stream_close(vp_stream_t *stream, vp_scratch_t *scratch);
VP_API vp_verdict vp_stream_verdict(const vp_stream_t *stream);
/** Bytes seen so far, gaps included. */
VP_API uint64_t vp_stream_offset(const vp_stream_t *stream);
/** Frees a stream (closed or not: an unclosed stream is discarded silently). NULL ok. */
VP_API void vp_stream_free(vp_stream_t *stream);

/** Pairs the two directions of one flow so that the HTTP response parser
 *  knows the request methods (a response to HEAD has no body; a 2xx answer to
 *  CONNECT starts a tunnel).  Optional.  Linked streams must be scanned by one
 *  thread at a time (they share state); freeing either unlinks them. */
VP_API vp_status vp_stream_link(vp_stream_t *to_server, vp_stream_t *to_client);

/** Counters of one stream; set `size` to sizeof(vp_stream_stats_t) first. */
typedef struct vp_stream_stats {
    size_t size;
    uint64_t bytes;            /**< bytes seen, gaps included */
    int http;                  /**< 1 while parsed as HTTP, 0 otherwise */
    uint64_t http_messages;    /**< requests or responses parsed */
    uint64_t http_limit_hits;  /**< header, body or decompression limits reached */
    uint64_t http_anomalies;   /**< protocol anomalies seen (reported or not) */
    size_t http_bytes;         /**< memory of the HTTP side of this stream */
    size_t state_bytes;        /**< memory of partial matches (made on demand) */
} vp_stream_stats_t;

VP_API vp_status vp_stream_stats(const vp_stream_t *stream, vp_stream_stats_t *stats);

/** Scans one datagram as a stream of its own (open + scan + close + free). */
VP_API vp_status vp_scan_datagram(const vp_engine_t *engine, vp_proto proto, uint16_t server_port,
                                  vp_direction direction, const void *data, size_t len,
                                  vp_scratch_t *scratch, vp_event_cb cb, void *ctx,
                                  vp_verdict *verdict);

/* ------------------------------------------------------------ alert filter */

/** Applies rules' `threshold` fields to events.  The library sees streams,
 *  not addresses or time, so the host that has both decides here whether an
 *  event is reported to the console.  The verdict is never filtered.  A filter
 *  keeps its own copy of the thresholds (the bundle may be freed) and a table
 *  of at most `max_entries` tracked (rule, host) pairs, allocated at creation;
 *  when no slot is free an event is reported and counted as untracked.  One
 *  thread at a time.  See docs/api.md, "Alert thresholds". */
typedef struct vp_alert_filter vp_alert_filter_t;

/** An IPv4 (family 4, bytes[0..3]) or IPv6 (family 6) address. */
typedef struct vp_address {
    uint8_t family;
    uint8_t bytes[16];
} vp_address_t;

/** max_entries 0 gives 16384; at most 2^24. */
VP_API vp_status vp_alert_filter_create(const vp_bundle_t *bundle, size_t max_entries,
                                        vp_alert_filter_t **out, vp_error_t **err);
VP_API void vp_alert_filter_free(vp_alert_filter_t *filter);
/** Forgets every tracked period (counters stay), e.g. between captures. */
VP_API void vp_alert_filter_reset(vp_alert_filter_t *filter);
/** Sets *report to 1 when the event is to be reported, else 0.  `src` sends
 *  the bytes of the stream the event came from, `dst` receives them; either
 *  may be NULL when the rule's track does not use it.  `time_s` is the
 *  event's time in seconds (a capture's clock or the wall clock); a time
 *  before a period's start counts as inside it.  Events of rules without a
 *  threshold, or unknown to the bundle, are always reported. */
VP_API vp_status vp_alert_filter_check(vp_alert_filter_t *filter, const vp_event_t *event,
                                       const vp_address_t *src, const vp_address_t *dst,
                                       uint64_t time_s, int *report);

/** Counters; set `size` to sizeof(vp_alert_filter_stats_t) first. */
typedef struct vp_alert_filter_stats {
    size_t size;
    uint64_t checked;      /**< events given to check */
    uint64_t suppressed;   /**< of them, not to be reported */
    uint64_t untracked;    /**< reported because the table had no free slot */
    size_t entries;        /**< (rule, host) pairs tracked now */
    size_t capacity;       /**< max_entries */
} vp_alert_filter_stats_t;

VP_API vp_status vp_alert_filter_stats(const vp_alert_filter_t *filter,
                                       vp_alert_filter_stats_t *stats);

#ifdef __cplusplus
}
#endif
#endif /* VPATCH_H */
