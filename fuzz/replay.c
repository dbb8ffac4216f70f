/*
 * Replay driver: runs a fuzz target's LLVMFuzzerTestOneInput() over files
 * without libFuzzer, so that corpora and crash reproducers run in the normal
 * `meson test` (and under valgrind or a sanitizer build).
 *
 *   fuzz_TARGET_replay [-q] [--optional] PATH...
 *
 * A PATH that is a directory runs every regular file in it (sorted by name,
 * names starting with '.' skipped); a file runs itself.  --optional makes the
 * PATHs after it skippable when they do not exist (regression directories).
 * Each input is read into a buffer of its exact size, so reading past it is
 * caught by ASan or valgrind.  A crash of the target is the failure; the exit
 * status is 1 only for unusable arguments or unreadable files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int quiet;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "replay: out of memory\n");
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        return -1;
    }
    /* Exact-size copy: the target must not read a byte past its input. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    if (!quiet)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(len ? exact : NULL, len);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(char *));
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(char *), cmp_names);
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(plen);
        struct stat st;
        if (!path) {
            rc = -1;
        } else {
            snprintf(path, plen, "%s/%s", dir, names[i]);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (run_file(path) != 0)
                    rc = -1;
                else
                    (*count)++;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int optional = 0, rc = 0, paths = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-q") == 0) {
            quiet = 1;
            continue;
        }
        if (strcmp(arg, "--optional") == 0) {
            optional = 1;
            continue;
        }
        paths++;
        struct stat st;
        if (stat(arg, &st) != 0) {
            if (optional && errno == ENOENT)
                continue;
            fprintf(stderr, "replay: %s: %s\n", arg, strerror(errno));
            rc = 1;
            continue;
        }
        size_t count = 0;
        if (S_ISDIR(st.st_mode)) {
            if (run_dir(arg, &count) != 0)
                rc = 1;
        } else if (run_file(arg) == 0) {
            count = 1;
        } else {
            rc = 1;
        }
        printf("replayed %zu input(s) from %s\n", count, arg);
    }
    if (!paths) {
        fprintf(stderr, "usage: %s [-q] [--optional] PATH...\n", argv[0]);
        return 1;
    }
    return rc;
}
