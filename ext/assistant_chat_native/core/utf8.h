/*
 * utf8.h: UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF), shared by the decoders' fast paths and the failure text
 * cleaner. Borrows the bytes it looks at; owns nothing.
 */
#ifndef ACN_UTF8_H
#define ACN_UTF8_H

#include <stddef.h>

/* The length (1 to 4) of the well-formed sequence that starts at bytes[0], or 0 when
 * the bytes there are not one or are cut short by len. len must be at least 1. */
size_t acn_utf8_sequence(const unsigned char *bytes, size_t len);

#endif
