/*
 * Inspection buffers: the raw stream and the HTTP/1.x buffers of the rule
 * language, plus the pseudo-buffer of protocol anomalies.  The numbers are
 * stored in bundles (condition and atom flags): never renumber.
 */
#ifndef VP_COMMON_BUFFERS_H
#define VP_COMMON_BUFFERS_H

#include <stddef.h>
#include <stdint.h>

typedef enum vp_buf {
    VP_BUF_STREAM = 0,
    VP_BUF_METHOD = 1,
    VP_BUF_URI = 2,
    VP_BUF_URI_RAW = 3,
    VP_BUF_REQUEST_LINE = 4,
    VP_BUF_HEADER = 5,
    VP_BUF_HEADER_RAW = 6,
    VP_BUF_HOST = 7,
    VP_BUF_USER_AGENT = 8,
    VP_BUF_COOKIE = 9,
    VP_BUF_CONTENT_TYPE = 10,
    VP_BUF_REQUEST_BODY = 11,
    VP_BUF_STAT_CODE = 12,
    VP_BUF_RESPONSE_BODY = 13,
    VP_BUF_ANOMALY = 14,   /* `anomaly:` conditions: events of the HTTP parser */
    VP_BUF_HEADER_NAMES = 15, /* since bundle 1.3 */
    VP_BUF_COUNT = 16
} vp_buf;

/* Buffers whose atoms are patterns (all but the anomaly pseudo-buffer). */
static inline int vp_buf_has_patterns(int buf)
{
    return buf >= 0 && buf < VP_BUF_COUNT && buf != VP_BUF_ANOMALY;
}

/* Bits of vp_mcond.flags / vp_matom.flags that hold the buffer. */
#define VP_BUF_SHIFT 8
#define VP_BUF_MASK (0xfu << VP_BUF_SHIFT)
#define VP_BUF_OF(flags) (((flags) & VP_BUF_MASK) >> VP_BUF_SHIFT)

/* Which stream directions a buffer exists in (VP_DIR_* bits 1 and 2). */
enum { VP_BUFDIR_SERVER = 1, VP_BUFDIR_CLIENT = 2, VP_BUFDIR_BOTH = 3 };

/* Buffer by its rule-language name ("http.uri"), -1 if unknown. */
int vp_buf_by_name(const char *name);
const char *vp_buf_name(int buf);
/* VP_BUFDIR_* of a buffer. */
int vp_buf_directions(int buf);
/* 1 for buffers scanned incrementally (bodies), 0 for those scanned whole. */
int vp_buf_is_streamed(int buf);

/* HTTP protocol anomalies, reported as `anomaly: NAME` conditions. */
typedef enum vp_anomaly {
    VP_AN_URI_DOUBLE_ENCODING = 0,
    VP_AN_URI_INVALID_ESCAPE,
    VP_AN_URI_NULL_BYTE,
    VP_AN_URI_OVERLONG_UTF8,
    VP_AN_URI_ABOVE_ROOT,
    VP_AN_HEADER_DUPLICATE_CONTENT_LENGTH,
    VP_AN_HEADER_TE_CL_CONFLICT,
    VP_AN_HEADER_BARE_LF,
    VP_AN_HEADER_INVALID_LINE,
    VP_AN_HEADER_LIMIT,
    VP_AN_BODY_INVALID_CHUNK,
    VP_AN_BODY_DECOMPRESSION_FAILED,
    VP_AN_BODY_DECOMPRESSION_LIMIT,
    VP_AN_MALFORMED_MESSAGE,
    VP_AN_COUNT
} vp_anomaly;

int vp_anomaly_by_name(const char *name);
const char *vp_anomaly_name(int anomaly);

#endif
