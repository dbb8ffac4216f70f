/*
 * rulec — the rule compiler.  A thin shell over vpatch_compile.h; see
 * ../shared/spec/cli.md for the contract (exit 0 ok, 1 errors, 2 usage).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"
#include "json_out.h"
#include "import_cmd.h"

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

static void usage(FILE *to)
{
    fputs("usage: rulec compile -o OUT.vpb [--sign SECRET.key] [--serial N] [--no-cpu-variants]\n"
          "                    FILE.yaml...\n"
          "       rulec check FILE.yaml...\n"
          "       rulec inspect [--json] BUNDLE.vpb\n"
          "       rulec keygen -o NAME\n",
          to);
    rulec_import_usage(to);
    fputs("       rulec --version\n", to);
}

static void print_diags(const vp_compiler_t *c)
{
    char buf[1024];
    for (size_t i = 0; i < vp_compiler_diag_count(c); i++) {
        vp_compiler_diag_format(c, i, buf, sizeof(buf));
        fprintf(stderr, "%s\n", buf);
    }
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* compile and check share everything but the output file. */
static int build(int argc, char **argv, int write_output)
{
    const char *out = NULL;
    const char *key = NULL;
    int cpu_variants = 1;
    uint64_t serial = 0;
    int have_serial = 0;
    vp_compiler_t *c = NULL;
    if (vp_compiler_create(&c) != VP_OK) {
        fprintf(stderr, "rulec: out of memory\n");
        return EXIT_ERRORS;
    }
    int files = 0;
    for (int i = 0; i < argc; i++) {
        if (write_output && strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (write_output && strcmp(argv[i], "--serial") == 0 && i + 1 < argc) {
            if (parse_u64(argv[++i], &serial) != 0) {
                fprintf(stderr, "rulec: --serial needs a non-negative integer, got \"%s\"\n",
                        argv[i]);
                vp_compiler_free(c);
                return EXIT_USAGE;
            }
            have_serial = 1;
        } else if (write_output && strcmp(argv[i], "--sign") == 0 && i + 1 < argc) {
            key = argv[++i];
        } else if (write_output && strcmp(argv[i], "--no-cpu-variants") == 0) {
            cpu_variants = 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "rulec: unknown option %s\n", argv[i]);
            usage(stderr);
            vp_compiler_free(c);
            return EXIT_USAGE;
        } else {
            if (vp_compiler_add_file(c, argv[i]) != VP_OK) {
                fprintf(stderr, "rulec: out of memory\n");
                vp_compiler_free(c);
                return EXIT_ERRORS;
            }
            files++;
        }
    }
    if (!files || (write_output && !out)) {
        usage(stderr);
        vp_compiler_free(c);
        return EXIT_USAGE;
    }
    if (have_serial)
        vp_compiler_set_serial(c, serial);
    vp_compiler_set_cpu_variants(c, cpu_variants);
    if (key) {
        vp_error_t *err = NULL;
        if (vp_compiler_set_signing_key_file(c, key, &err) != VP_OK) {
            fprintf(stderr, "rulec: %s\n", vp_error_message(err));
            vp_error_free(err);
            vp_compiler_free(c);
            return EXIT_USAGE;
        }
    }
    uint8_t *bundle = NULL;
    size_t len = 0;
    vp_status st = vp_compiler_build(c, &bundle, &len);
    print_diags(c);
    int rc = EXIT_OK;
    if (st != VP_OK) {
        if (st != VP_E_COMPILE)
            fprintf(stderr, "rulec: %s\n", vp_status_str(st));
        rc = EXIT_ERRORS;
    } else if (write_output) {
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(bundle, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "rulec: cannot write %s: %s\n", out, strerror(errno));
            if (f)
                remove(out);
            rc = EXIT_ERRORS;
        }
    }
    vp_compiler_bundle_free(bundle);
    vp_compiler_free(c);
    return rc;
}

static void modes_json(json_out *j, unsigned modes)
{
    json_begin_array(j);
    if (modes & VP_MODE_BIT(VP_MODE_PERFORMANCE))
        json_string(j, "performance");
    if (modes & VP_MODE_BIT(VP_MODE_SECURITY))
        json_string(j, "security");
    json_end_array(j);
}

static void rule_json(json_out *j, const vp_rule_info_t *r)
{
    json_begin_object(j);
    json_key(j, "id"), json_uint(j, r->id);
    json_key(j, "name"), json_string(j, r->name);
    json_key(j, "cve"), json_begin_array(j);
    for (size_t k = 0; k < r->cve_count; k++)
        json_string(j, r->cves[k]);
    json_end_array(j);
    json_key(j, "severity"), json_string(j, vp_severity_str(r->severity));
    json_key(j, "modes"), modes_json(j, r->modes);
    json_key(j, "action"), json_string(j, vp_action_str(r->action));
    json_key(j, "protocol"), json_string(j, r->proto == VP_PROTO_UDP ? "udp" : "tcp");
    json_key(j, "direction"), json_string(j, vp_direction_str(r->direction));
    json_key(j, "service"), json_string(j, r->service == VP_SERVICE_HTTP ? "http" : "any");
    json_key(j, "noalert"), json_bool(j, r->noalert);
    json_key(j, "flowbits"), json_uint(j, r->flowbit_count);
    json_key(j, "threshold");
    if (r->threshold_type == VP_THRESHOLD_NONE) {
        json_null(j);
    } else {
        json_begin_object(j);
        json_key(j, "type"), json_string(j, vp_threshold_type_str(r->threshold_type));
        json_key(j, "track"), json_string(j, vp_track_str(r->threshold_track));
        json_key(j, "count"), json_uint(j, r->threshold_count);
        json_key(j, "seconds"), json_uint(j, r->threshold_seconds);
        json_end_object(j);
    }
    json_key(j, "conditions"), json_uint(j, r->condition_count);
    json_end_object(j);
}

static void inspect_json(const vp_bundle_t *b, const vp_bundle_stats_t *st)
{
    json_out j;
    json_init(&j, stdout);
    json_begin_object(&j);
    json_key(&j, "format"), json_begin_object(&j);
    json_key(&j, "major"), json_uint(&j, st->format_major);
    json_key(&j, "minor"), json_uint(&j, st->format_minor);
    json_end_object(&j);
    json_key(&j, "serial"), json_uint(&j, vp_bundle_serial(b));
    json_key(&j, "ruleset"), json_string(&j, vp_bundle_ruleset(b));
    json_key(&j, "signed"), json_bool(&j, st->is_signed);
    json_key(&j, "key_id");
    if (st->is_signed)
        json_string(&j, st->key_id);
    else
        json_null(&j);
    json_key(&j, "database"), json_string(&j, st->database);
    json_key(&j, "size"), json_uint(&j, st->file_size);
    json_key(&j, "patterns"), json_uint(&j, st->pattern_count);
    json_key(&j, "database_bytes"), json_uint(&j, st->database_bytes);
    json_key(&j, "sections"), json_begin_array(&j);
    for (size_t i = 0; i < st->section_count; i++) {
        const char *name;
        uint64_t size;
        vp_bundle_section_at(b, i, &name, &size);
        json_begin_object(&j);
        json_key(&j, "name"), json_string(&j, name);
        json_key(&j, "size"), json_uint(&j, size);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_key(&j, "rules"), json_begin_array(&j);
    for (size_t i = 0; i < vp_bundle_rule_count(b); i++) {
        vp_rule_info_t r = {.size = sizeof(r)};
        vp_bundle_rule_at(b, i, &r);
        rule_json(&j, &r);
    }
    json_end_array(&j);
    json_end_object(&j);
    fputc('\n', stdout);
}

static void inspect_text(const vp_bundle_t *b, const vp_bundle_stats_t *st)
{
    printf("format:    %u.%u\n", st->format_major, st->format_minor);
    printf("serial:    %" PRIu64 "\n", vp_bundle_serial(b));
    printf("ruleset:   %s\n", vp_bundle_ruleset(b));
    if (st->is_signed)
        printf("signature: Ed25519, key id %s (not verified: no trusted key given)\n", st->key_id);
    else
        printf("signature: none (unsigned)\n");
    printf("database:  %s (in use on this machine)\n", st->database);
    printf("size:      %" PRIu64 " bytes, %zu patterns, Hyperscan database %zu bytes\n",
           st->file_size, st->pattern_count, st->database_bytes);
    printf("sections:\n");
    for (size_t i = 0; i < st->section_count; i++) {
        const char *name;
        uint64_t size;
        vp_bundle_section_at(b, i, &name, &size);
        printf("  %-14s %10" PRIu64 " bytes\n", name, size);
    }
    printf("rules: %zu\n", vp_bundle_rule_count(b));
    for (size_t i = 0; i < vp_bundle_rule_count(b); i++) {
        vp_rule_info_t r = {.size = sizeof(r)};
        vp_bundle_rule_at(b, i, &r);
        const char *modes = (r.modes & VP_MODE_BIT(VP_MODE_PERFORMANCE))
                                ? ((r.modes & VP_MODE_BIT(VP_MODE_SECURITY)) ? "perf+sec" : "perf")
                                : "sec";
        printf("  %10u  %-8s %-8s %-8s %s\n", r.id, vp_severity_str(r.severity),
               vp_action_str(r.action), modes, r.name);
    }
}

static int inspect(int argc, char **argv)
{
    int as_json = 0;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (argv[i][0] == '-' || path) {
            usage(stderr);
            return EXIT_USAGE;
        } else
            path = argv[i];
    }
    if (!path) {
        usage(stderr);
        return EXIT_USAGE;
    }
    vp_bundle_t *b = NULL;
    vp_error_t *err = NULL;
    vp_status st = vp_bundle_load_file(path, &b, &err);
    if (st != VP_OK) {
        int64_t off = vp_error_offset(err);
        if (off >= 0)
            fprintf(stderr, "%s: %s (byte offset %" PRId64 ")\n", path, vp_error_message(err), off);
        else
            fprintf(stderr, "%s: %s\n", path, vp_error_message(err));
        vp_error_free(err);
        return st == VP_E_IO ? EXIT_USAGE : EXIT_ERRORS;
    }
    vp_bundle_stats_t stats = {.size = sizeof(stats)};
    vp_bundle_stats(b, &stats);
    if (as_json)
        inspect_json(b, &stats);
    else
        inspect_text(b, &stats);
    vp_bundle_free(b);
    return EXIT_OK;
}

static int keygen(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "-o") != 0 || !argv[1][0]) {
        usage(stderr);
        return EXIT_USAGE;
    }
    vp_error_t *err = NULL;
    if (vp_compiler_keygen(argv[1], &err) != VP_OK) {
        fprintf(stderr, "rulec: %s\n", vp_error_message(err));
        vp_error_free(err);
        return EXIT_ERRORS;
    }
    fprintf(stderr, "rulec: wrote %s.key (secret, keep it private) and %s.pub\n", argv[1], argv[1]);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "compile") == 0)
        return build(argc - 2, argv + 2, 1);
    if (strcmp(cmd, "check") == 0)
        return build(argc - 2, argv + 2, 0);
    if (strcmp(cmd, "inspect") == 0)
        return inspect(argc - 2, argv + 2);
    if (strcmp(cmd, "keygen") == 0)
        return keygen(argc - 2, argv + 2);
    if (strcmp(cmd, "import") == 0)
        return rulec_import(argc - 2, argv + 2);
    if (strcmp(cmd, "--version") == 0) {
        printf("rulec %s\n", vp_version());
        return EXIT_OK;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "rulec: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
