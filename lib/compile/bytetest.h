/*
 * byte_test conditions (docs/rule-format.md, "Byte values"): the set of
 * n-byte strings whose unsigned value, read big or little endian, compares
 * to a number in a given way.  That set is finite, so it is a regular
 * language; this builds a Hyperscan expression of it whose every match is
 * exactly n bytes long, which the engine then treats like a literal.
 */
#ifndef VP_COMPILE_BYTETEST_H
#define VP_COMPILE_BYTETEST_H

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

/* Name of an operator as the rule language writes it ("=", "!=", ...). */
const char *vp_bt_op_name(int op);
/* The operator of a name, or -1. */
int vp_bt_op_of(const char *name);

/* The expression, malloc'd.  NULL with *empty = 1 when no n-byte string
 * satisfies the test, NULL with *empty = 0 when out of memory.  n is 1..8. */
char *vp_bytetest_expr(unsigned n, int little, int op, uint64_t value, int *empty);

#endif
