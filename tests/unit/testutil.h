/* Helpers shared by the unit tests. */
#ifndef VP_TESTUTIL_H
#define VP_TESTUTIL_H
#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"

/* Runs a suite and returns the process exit status (0 when all passed). */
int vp_test_run_suite(Suite *s);

/* A bundle + engine + scratch built from YAML text held in memory. */
typedef struct vpt_engine {
    vp_bundle_t *bundle;
    vp_engine_t *engine;
    vp_scratch_t *scratch;
} vpt_engine;

/* Compiles `yaml` (embedded tests not run) into bytes; fails the test on error. */
void vpt_compile(const char *yaml, uint8_t **bundle, size_t *len);
/* Compiles and builds an engine; mode security plus every rule id enabled
 * when enable_all, else the given options (NULL = defaults). */
void vpt_build(const char *yaml, int enable_all, const vp_engine_options_t *opts, vpt_engine *out);
void vpt_free(vpt_engine *t);

#define VPT_MAX_EVENTS 64
typedef struct vpt_events {
    size_t n;
    vp_event_t ev[VPT_MAX_EVENTS];
} vpt_events;

/* Scans `data` as one TCP stream in `chunk`-byte pieces (0 = whole), closes it,
 * and returns the events in the order reported.  A '|' byte in `gaps` mode is
 * not data: see vpt_scan_with_gaps. */
vp_verdict vpt_scan(vpt_engine *t, uint16_t port, vp_direction dir, const void *data, size_t len,
                    size_t chunk, vpt_events *out);
/* Like vpt_scan, but each '~' in `data` is a gap of `gap_len` lost bytes. */
vp_verdict vpt_scan_with_gaps(vpt_engine *t, const char *data, uint64_t gap_len, size_t chunk,
                              vpt_events *out);

/* Offset of the first event of rule `id`, or -1. */
int64_t vpt_offset_of(const vpt_events *ev, uint32_t id);

/* Event callback appending to the vpt_events at ctx (fails the test when full). */
void vpt_collect(const vp_event_t *ev, void *ctx);
/* Opens the two TCP streams of one flow to `port`, each collecting into its
 * own vpt_events (zeroed here); they are not linked. */
void vpt_open_pair(vpt_engine *t, uint16_t port, vpt_events *to_server, vpt_events *to_client,
                   vp_stream_t **cs, vp_stream_t **ss);
/* Offset of rule `id`'s first event on `data` as one stream, which must be
 * the same at every chunk size (checked); -1 when it does not fire. */
int64_t vpt_fires_at(vpt_engine *t, uint16_t port, vp_direction dir, const void *data, size_t len,
                     uint32_t id);

/* Chunk sizes every semantic test is run with (0 = whole). */
extern const size_t vpt_chunk_sizes[];
extern const size_t vpt_n_chunk_sizes;

#endif
