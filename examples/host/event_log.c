/* JSON event lines for vpscan.  See event_log.h. */
#include "event_log.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <time.h>

#include "json_out.h"

void ev_format_time(uint64_t ts_us, char *buf, size_t cap)
{
    time_t secs = (time_t)(ts_us / 1000000u);
    unsigned usec = (unsigned)(ts_us % 1000000u);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, cap, "1970-01-01T00:00:00.000000Z");
        return;
    }
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

void ev_format_ip(uint8_t family, const uint8_t *addr, char *buf, size_t cap)
{
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)cap))
        snprintf(buf, cap, "?");
}

int ev_write(FILE *out, const vp_bundle_t *bundle, const vp_event_t *ev, const ev_origin *o)
{
    vp_rule_info_t r = {.size = sizeof(r)};
    if (vp_bundle_rule_by_id(bundle, ev->rule_id, &r) != VP_OK)
        return -1;
    json_out j;
    json_init(&j, out);
    json_begin_object(&j);
    if (o) {
        char ts[40];
        ev_format_time(o->ts_us, ts, sizeof(ts));
        json_key(&j, "timestamp"), json_string(&j, ts);
    }
    json_key(&j, "event_type"), json_string(&j, "ips");
    json_key(&j, "rule_id"), json_uint(&j, ev->rule_id);
    json_key(&j, "name"), json_string(&j, r.name);
    json_key(&j, "cve"), json_begin_array(&j);
    for (size_t i = 0; i < r.cve_count; i++)
        json_string(&j, r.cves[i]);
    json_end_array(&j);
    json_key(&j, "severity"), json_string(&j, vp_severity_str(r.severity));
    json_key(&j, "action"), json_string(&j, vp_action_str(ev->action));
    json_key(&j, "verdict"), json_string(&j, vp_verdict_str(ev->verdict));
    json_key(&j, "direction"), json_string(&j, vp_direction_str(ev->direction));
    json_key(&j, "offset"), json_uint(&j, ev->offset);
    if (o) {
        char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
        ev_format_ip(o->family, o->src_ip, src, sizeof(src));
        ev_format_ip(o->family, o->dest_ip, dst, sizeof(dst));
        json_key(&j, "flow"), json_begin_object(&j);
        json_key(&j, "proto"), json_string(&j, o->proto == 17 ? "UDP" : "TCP");
        json_key(&j, "src_ip"), json_string(&j, src);
        json_key(&j, "src_port"), json_uint(&j, o->src_port);
        json_key(&j, "dest_ip"), json_string(&j, dst);
        json_key(&j, "dest_port"), json_uint(&j, o->dest_port);
        json_end_object(&j);
        if (o->pcap_file)
            json_key(&j, "pcap_file"), json_string(&j, o->pcap_file);
    }
    json_end_object(&j);
    fputc('\n', out);
    return 0;
}
