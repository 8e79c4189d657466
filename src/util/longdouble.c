/* INCRBYFLOAT and HINCRBYFLOAT arithmetic in C's long double, for src/util/num.rs.
 *
 * Redis adds these increments in long double (80-bit extended on x86-64, so 64 mantissa bits) and prints the
 * sum with "%.17Lf", which Rust's f64 cannot reproduce. This file keeps exactly that arithmetic: it parses both
 * operands the way Redis's string2ld does, adds them, and formats the sum the way ld2string(LD_STR_HUMAN) does.
 * It keeps no state between calls and retains no pointer it was given. Numbers are parsed and printed in the
 * "C" locale, which is the one in force because Rust programs never call setlocale. */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MAX_LONG_DOUBLE_CHARS in Redis: string2ld's buffer, so an operand of this many bytes or more is not a float. */
#define LONG_DOUBLE_CHARS_MAX (5 * 1024)

/* Status bits, returned negated; src/util/num.rs has the same values. */
#define STATUS_CURRENT_NOT_FLOAT 1
#define STATUS_INCR_NOT_FLOAT 2
#define STATUS_INCR_NOT_FINITE 4
#define STATUS_SUM_NOT_FINITE 8

/* Parses s[0..len) as Redis's string2ld does: strtold must consume every byte (a NUL inside the input fails
 * that), the first byte must not be whitespace, and NaN or an ERANGE result of +-HUGE_VAL or zero is rejected.
 * Returns 1 and sets *value on success. */
static int parse_long_double(const char *s, size_t len, long double *value) {
    char buf[LONG_DOUBLE_CHARS_MAX];
    char *end;

    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';

    errno = 0;
    long double parsed = strtold(buf, &end);
    int out_of_range = errno == ERANGE &&
        (parsed == HUGE_VALL || parsed == -HUGE_VALL || fpclassify(parsed) == FP_ZERO);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || (size_t)(end - buf) != len || out_of_range ||
        isnan(parsed))
        return 0;
    *value = parsed;
    return 1;
}

/* Prints a finite value as ld2string(LD_STR_HUMAN) does: "%.17Lf", then trailing zeros and a bare '.' removed,
 * and "-0" turned into "0". Text that would not fit in out_cap bytes (with its NUL) comes out empty, as in
 * Redis. Returns the text's length. */
static int format_human(char *out, size_t out_cap, long double value) {
    int len = snprintf(out, out_cap, "%.17Lf", value);
    if (len < 0 || (size_t)len + 1 > out_cap) return 0;
    if (memchr(out, '.', (size_t)len) != NULL) {
        while (out[len - 1] == '0') len--;
        if (out[len - 1] == '.') len--;
    }
    if (len == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        len = 1;
    }
    return len;
}

int ferrokv_incrbyfloat(const char *cur, size_t cur_len, const char *incr, size_t incr_len, char *out,
                        size_t out_cap) {
    long double value = 0, increment = 0;
    int status = 0;

    if (!parse_long_double(cur, cur_len, &value)) status |= STATUS_CURRENT_NOT_FLOAT;
    if (!parse_long_double(incr, incr_len, &increment)) status |= STATUS_INCR_NOT_FLOAT;
    else if (isinf(increment)) status |= STATUS_INCR_NOT_FINITE;
    if ((status & (STATUS_CURRENT_NOT_FLOAT | STATUS_INCR_NOT_FLOAT)) == 0) {
        value += increment;
        if (isnan(value) || isinf(value)) status |= STATUS_SUM_NOT_FINITE;
    }
    if (status != 0) return -status;
    return format_human(out, out_cap, value);
}
