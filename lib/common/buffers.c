#include "buffers.h"

#include <string.h>

static const struct {
    const char *name;
    int dirs;
    int streamed;
} bufs[VP_BUF_COUNT] = {
    [VP_BUF_STREAM] = {"stream", VP_BUFDIR_BOTH, 1},
    [VP_BUF_METHOD] = {"http.method", VP_BUFDIR_SERVER, 0},
    [VP_BUF_URI] = {"http.uri", VP_BUFDIR_SERVER, 0},
    [VP_BUF_URI_RAW] = {"http.uri.raw", VP_BUFDIR_SERVER, 0},
    [VP_BUF_REQUEST_LINE] = {"http.request_line", VP_BUFDIR_SERVER, 0},
    [VP_BUF_HEADER] = {"http.header", VP_BUFDIR_BOTH, 0},
    [VP_BUF_HEADER_RAW] = {"http.header.raw", VP_BUFDIR_BOTH, 0},
    [VP_BUF_HOST] = {"http.host", VP_BUFDIR_BOTH, 0},
    [VP_BUF_USER_AGENT] = {"http.user_agent", VP_BUFDIR_BOTH, 0},
    [VP_BUF_COOKIE] = {"http.cookie", VP_BUFDIR_BOTH, 0},
    [VP_BUF_CONTENT_TYPE] = {"http.content_type", VP_BUFDIR_BOTH, 0},
    [VP_BUF_REQUEST_BODY] = {"http.request_body", VP_BUFDIR_SERVER, 1},
    [VP_BUF_STAT_CODE] = {"http.stat_code", VP_BUFDIR_CLIENT, 0},
    [VP_BUF_RESPONSE_BODY] = {"http.response_body", VP_BUFDIR_CLIENT, 1},
    [VP_BUF_ANOMALY] = {"anomaly", VP_BUFDIR_BOTH, 0},
    [VP_BUF_HEADER_NAMES] = {"http.header_names", VP_BUFDIR_BOTH, 0},
};

static const char *const anomalies[VP_AN_COUNT] = {
    [VP_AN_URI_DOUBLE_ENCODING] = "http.uri.double_encoding",
    [VP_AN_URI_INVALID_ESCAPE] = "http.uri.invalid_escape",
    [VP_AN_URI_NULL_BYTE] = "http.uri.null_byte",
    [VP_AN_URI_OVERLONG_UTF8] = "http.uri.overlong_utf8",
    [VP_AN_URI_ABOVE_ROOT] = "http.uri.above_root",
    [VP_AN_HEADER_DUPLICATE_CONTENT_LENGTH] = "http.header.duplicate_content_length",
    [VP_AN_HEADER_TE_CL_CONFLICT] = "http.header.te_cl_conflict",
    [VP_AN_HEADER_BARE_LF] = "http.header.bare_lf",
    [VP_AN_HEADER_INVALID_LINE] = "http.header.invalid_line",
    [VP_AN_HEADER_LIMIT] = "http.header.limit",
    [VP_AN_BODY_INVALID_CHUNK] = "http.body.invalid_chunk",
    [VP_AN_BODY_DECOMPRESSION_FAILED] = "http.body.decompression_failed",
    [VP_AN_BODY_DECOMPRESSION_LIMIT] = "http.body.decompression_limit",
    [VP_AN_MALFORMED_MESSAGE] = "http.malformed_message",
};

int vp_buf_by_name(const char *name)
{
    for (int i = 0; i < VP_BUF_COUNT; i++)
        if (vp_buf_has_patterns(i) && strcmp(bufs[i].name, name) == 0)
            return i;
    return -1;
}

const char *vp_buf_name(int buf)
{
    return buf >= 0 && buf < VP_BUF_COUNT ? bufs[buf].name : "unknown";
}

int vp_buf_directions(int buf)
{
    return buf >= 0 && buf < VP_BUF_COUNT ? bufs[buf].dirs : 0;
}

int vp_buf_is_streamed(int buf)
{
    return buf >= 0 && buf < VP_BUF_COUNT ? bufs[buf].streamed : 0;
}

int vp_anomaly_by_name(const char *name)
{
    for (int i = 0; i < VP_AN_COUNT; i++)
        if (strcmp(anomalies[i], name) == 0)
            return i;
    return -1;
}

const char *vp_anomaly_name(int anomaly)
{
    return anomaly >= 0 && anomaly < VP_AN_COUNT ? anomalies[anomaly] : "unknown";
}
