/*
 * Hot reload: one thread scans streams continuously while the main thread
 * swaps in a new engine (here: the same bundle file, reloaded) a few times.
 * Streams opened on the old engine finish on it; it is freed with its last
 * stream.  usage: hot_reload BUNDLE.vpb
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vpatch/vpatch.h"

typedef struct host {
    pthread_mutex_t lock;  /* guards `engine` and stream opening */
    vp_engine_t *engine;
    atomic_int stop;
    long streams, events;
} host;

static void count(const vp_event_t *ev, void *ctx)
{
    (void)ev;
    ((host *)ctx)->events++;
}

static void *scanner(void *arg)
{
    host *h = arg;
    vp_scratch_t *scratch = NULL;
    const char *req = "GET /?q=${jndi:ldap://x/a} HTTP/1.1\r\nHost: a\r\n\r\n";
    while (!atomic_load(&h->stop)) {
        vp_stream_t *s = NULL;
        pthread_mutex_lock(&h->lock);
        vp_status st = scratch ? vp_scratch_reserve(scratch, h->engine)
                               : vp_scratch_alloc(h->engine, &scratch);
        if (st == VP_OK)
            st = vp_stream_open(h->engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, count, h, &s);
        pthread_mutex_unlock(&h->lock);
        if (st != VP_OK)
            break;
        vp_stream_scan(s, req, strlen(req), scratch); /* the engine may be swapped meanwhile */
        vp_stream_close(s, scratch);
        vp_stream_free(s);
        h->streams++;
    }
    vp_scratch_free(scratch);
    return NULL;
}

static vp_engine_t *load_engine(const char *path)
{
    vp_bundle_t *b;
    vp_engine_t *e = NULL;
    vp_error_t *err = NULL;
    if (vp_bundle_load_file(path, &b, &err) != VP_OK) {
        fprintf(stderr, "reload refused, keeping the running engine: %s\n", vp_error_message(err));
        vp_error_free(err);
        return NULL;
    }
    vp_engine_create(b, NULL, &e, NULL);
    vp_bundle_free(b); /* the engine keeps its own reference */
    return e;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: hot_reload BUNDLE.vpb\n");
        return 2;
    }
    host h = {PTHREAD_MUTEX_INITIALIZER, load_engine(argv[1]), 0, 0, 0};
    if (!h.engine)
        return 3;
    pthread_t t;
    pthread_create(&t, NULL, scanner, &h);
    for (int i = 0; i < 5; i++) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
        vp_engine_t *fresh = load_engine(argv[1]);
        if (!fresh)
            continue;
        pthread_mutex_lock(&h.lock);
        vp_engine_t *old = h.engine;
        h.engine = fresh;
        pthread_mutex_unlock(&h.lock);
        vp_engine_free(old);
    }
    atomic_store(&h.stop, 1);
    pthread_join(t, NULL);
    printf("5 reloads, %ld streams scanned, %ld events\n", h.streams, h.events);
    vp_engine_free(h.engine);
    return 0;
}
