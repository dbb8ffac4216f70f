/* Status names, version, enum names and the error object. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct vp_error {
    vp_status status;
    int64_t offset;
    char message[];
};

/* Returned when even the error cannot be allocated; never freed. */
static struct {
    vp_status status;
    int64_t offset;
    char message[32];
} oom_error = {VP_E_NOMEM, -1, "out of memory"};

VP_API const char *vp_status_str(vp_status status)
{
    switch (status) {
    case VP_OK: return "VP_OK";
    case VP_E_INVALID: return "VP_E_INVALID";
    case VP_E_NOMEM: return "VP_E_NOMEM";
    case VP_E_IO: return "VP_E_IO";
    case VP_E_BUNDLE_FORMAT: return "VP_E_BUNDLE_FORMAT";
    case VP_E_BUNDLE_VERSION: return "VP_E_BUNDLE_VERSION";
    case VP_E_BUNDLE_CHECKSUM: return "VP_E_BUNDLE_CHECKSUM";
    case VP_E_BUNDLE_PLATFORM: return "VP_E_BUNDLE_PLATFORM";
    case VP_E_SIGNATURE: return "VP_E_SIGNATURE";
    case VP_E_UNKNOWN_RULE: return "VP_E_UNKNOWN_RULE";
    case VP_E_SCRATCH_IN_USE: return "VP_E_SCRATCH_IN_USE";
    case VP_E_STREAM_CLOSED: return "VP_E_STREAM_CLOSED";
    case VP_E_HYPERSCAN: return "VP_E_HYPERSCAN";
    case VP_E_COMPILE: return "VP_E_COMPILE";
    case VP_E_ROLLBACK: return "VP_E_ROLLBACK";
    case VP_E_SCRATCH_MISMATCH: return "VP_E_SCRATCH_MISMATCH";
    }
    return "VP_E_UNKNOWN_STATUS";
}

VP_API const char *vp_version(void)
{
    return VPATCH_VERSION_STRING;
}

VP_API unsigned vp_version_number(void)
{
    return VPATCH_VERSION_NUMBER;
}

vp_status vp_error_set(vp_error_t **err, vp_status status, int64_t offset, const char *fmt, ...)
{
    if (!err)
        return status;
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        buf[0] = '\0';
    size_t len = strlen(buf);
    vp_error_t *e = malloc(sizeof(*e) + len + 1);
    if (!e) {
        *err = (vp_error_t *)(void *)&oom_error;
        return status;
    }
    e->status = status;
    e->offset = offset;
    memcpy(e->message, buf, len + 1);
    *err = e;
    return status;
}

VP_API const char *vp_error_message(const vp_error_t *err)
{
    return err ? err->message : "";
}

VP_API vp_status vp_error_status(const vp_error_t *err)
{
    return err ? err->status : VP_OK;
}

VP_API int64_t vp_error_offset(const vp_error_t *err)
{
    return err ? err->offset : -1;
}

VP_API void vp_error_free(vp_error_t *err)
{
    if (err && err != (vp_error_t *)(void *)&oom_error)
        free(err);
}

VP_API const char *vp_mode_str(vp_mode m)
{
    switch (m) {
    case VP_MODE_PERFORMANCE: return "performance";
    case VP_MODE_SECURITY: return "security";
    }
    return "unknown";
}

VP_API const char *vp_action_str(vp_action a)
{
    switch (a) {
    case VP_ACTION_BLOCK: return "block";
    case VP_ACTION_DETECT: return "detect";
    }
    return "unknown";
}

VP_API const char *vp_verdict_str(vp_verdict v)
{
    switch (v) {
    case VP_VERDICT_ALLOW: return "allow";
    case VP_VERDICT_BLOCK: return "block";
    }
    return "unknown";
}

VP_API const char *vp_severity_str(vp_severity s)
{
    switch (s) {
    case VP_SEV_LOW: return "low";
    case VP_SEV_MEDIUM: return "medium";
    case VP_SEV_HIGH: return "high";
    case VP_SEV_CRITICAL: return "critical";
    }
    return "unknown";
}

VP_API const char *vp_direction_str(vp_direction d)
{
    switch (d) {
    case VP_DIR_TO_SERVER: return "to_server";
    case VP_DIR_TO_CLIENT: return "to_client";
    case VP_DIR_ANY: return "any";
    }
    return "unknown";
}

VP_API const char *vp_threshold_type_str(vp_threshold_type t)
{
    switch (t) {
    case VP_THRESHOLD_NONE: return "none";
    case VP_THRESHOLD_LIMIT: return "limit";
    case VP_THRESHOLD_THRESHOLD: return "threshold";
    case VP_THRESHOLD_BOTH: return "both";
    case VP_THRESHOLD_DETECTION_FILTER: return "detection_filter";
    }
    return "unknown";
}

VP_API const char *vp_track_str(vp_track t)
{
    switch (t) {
    case VP_TRACK_BY_SRC: return "by_src";
    case VP_TRACK_BY_DST: return "by_dst";
    case VP_TRACK_BY_BOTH: return "by_both";
    case VP_TRACK_BY_RULE: return "by_rule";
    }
    return "unknown";
}

VP_API vp_status vp_mode_parse(const char *name, vp_mode *out)
{
    if (!name || !out)
        return VP_E_INVALID;
    if (strcmp(name, "performance") == 0)
        *out = VP_MODE_PERFORMANCE;
    else if (strcmp(name, "security") == 0)
        *out = VP_MODE_SECURITY;
    else
        return VP_E_INVALID;
    return VP_OK;
}
