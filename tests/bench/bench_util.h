/*
 * Small helpers shared by the vpbench sources: a deterministic PRNG, a
 * growable byte buffer and a monotonic clock.
 */
#ifndef VPBENCH_UTIL_H
#define VPBENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* xoshiro-style splitmix64: deterministic, fast, good enough for traffic. */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;

static inline uint64_t rng_next(bench_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t rng_below(bench_rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* 1 with probability num/den. */
static inline int rng_chance(bench_rng *r, uint32_t num, uint32_t den)
{
    return rng_below(r, den) < num;
}

static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the calling thread: unlike wall time, it does not count the
 * time other processes on a shared machine take from us. */
static inline double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Growable byte buffer; on allocation failure `oom` is set and appends stop. */
typedef struct bench_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} bench_buf;

int buf_reserve(bench_buf *b, size_t extra);
void buf_add(bench_buf *b, const void *data, size_t n);
void buf_str(bench_buf *b, const char *s);
/* printf-style append. */
void buf_fmt(bench_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(bench_buf *b);

/* Median of n doubles (sorts the array in place). */
double median(double *v, size_t n);

#endif
