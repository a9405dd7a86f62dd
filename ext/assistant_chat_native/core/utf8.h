/*
 * utf8.h: UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF) and sequence boundaries, shared by the decoders' fast
 * paths, the failure text cleaner and the accumulator's flushes; and the one
 * encoder of a code point, for JSON's \u escapes. Borrows the
 * bytes it looks at; owns nothing.
 */
#ifndef ACN_UTF8_H
#define ACN_UTF8_H

#include <stddef.h>

/* The length (1 to 4) of the well-formed sequence that starts at bytes[0], or 0 when
 * the bytes there are not one or are cut short by len. len must be at least 1. */
size_t acn_utf8_sequence(const unsigned char *bytes, size_t len);

/* The length of the longest prefix of bytes[0, len) that does not end inside a UTF-8
 * sequence which the next bytes could still complete: what a flush may hand out. */
size_t acn_utf8_complete_prefix(const char *bytes, size_t len);

/* Writes code point cp (at most U+10FFFF, not a surrogate) to out as UTF-8 and
 * returns how many bytes (1 to 4) it took. */
size_t acn_utf8_encode(unsigned long cp, char out[4]);

#endif
