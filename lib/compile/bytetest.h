/*
 * byte_test conditions (docs/rule-format.md, "Byte values"): the set of
 * n-byte strings whose unsigned value, read big or little endian, compares
 * to a number in a given way.  That set is finite, so it is a regular
 * language: a union of sequences of byte classes.  This builds such sets,
 * combines them with the literal before a byte_test (so that Hyperscan finds
 * them through that literal instead of at every byte), and writes them as an
 * expression whose every match has the same length, which the engine then
 * treats like a literal.
 */
#ifndef VP_COMPILE_BYTETEST_H
#define VP_COMPILE_BYTETEST_H

#include <stddef.h>
#include <stdint.h>

enum vp_bt_op {
    VP_BT_EQ,    /* value == v */
    VP_BT_NE,    /* value != v */
    VP_BT_LT,
    VP_BT_LE,
    VP_BT_GT,
    VP_BT_GE,
    VP_BT_AND,   /* value & v != 0: some bit of v is set */
    VP_BT_NAND,  /* value & v == 0: no bit of v is set */
    VP_BT_N_OPS
};

#define VP_BT_MAX_BYTES 8
/* Bounds of a combined set: sequences, and bytes per sequence. */
#define VP_BSEQ_MAX_SEQS 64
#define VP_BSEQ_MAX_LEN 1024

/* Name of an operator as the rule language writes it ("=", "!=", ...). */
const char *vp_bt_op_name(int op);
/* The operator of a name, or -1. */
int vp_bt_op_of(const char *name);

/* A union of `count` sequences of `len` byte classes (256-bit sets). */
typedef struct vp_bclass {
    uint8_t bits[32];
} vp_bclass;

typedef struct vp_bseqs {
    size_t len, count;
    vp_bclass *v; /* count * len classes, sequence after sequence */
} vp_bseqs;

/* The strings of a byte_test: 0, 1 when no n-byte value passes, -1 OOM or
 * bad arguments (n is 1..8). */
int vp_bseqs_bytetest(vp_bseqs *out, unsigned n, int little, int op, uint64_t value);
/* The bytes of a literal (ASCII letters in both cases with nocase). */
int vp_bseqs_literal(vp_bseqs *out, const uint8_t *bytes, size_t n, int nocase);
/* The strings of s that also hold the strings of t at position `at` of
 * them, into *out: s grown at the end when t reaches past it, and at the
 * start when at is negative (*grown_front: by how many bytes).  Returns 0,
 * 1 when nothing is left or a bound above would be exceeded, -1 OOM (*out
 * is set on 0 only). */
int vp_bseqs_and_at(const vp_bseqs *s, const vp_bseqs *t, long at, vp_bseqs *out,
                    size_t *grown_front);
/* The expression matching exactly the strings of s, malloc'd; NULL on OOM. */
char *vp_bseqs_expr(const vp_bseqs *s);
void vp_bseqs_free(vp_bseqs *s);

/* vp_bseqs_bytetest written as an expression.  NULL with *empty = 1 when no
 * n-byte string satisfies the test, NULL with *empty = 0 when out of memory
 * or the arguments are bad. */
char *vp_bytetest_expr(unsigned n, int little, int op, uint64_t value, int *empty);

#endif
