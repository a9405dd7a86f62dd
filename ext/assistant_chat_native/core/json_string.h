/*
 * json_string.h: decoding a JSON string's escapes where yajl gets them wrong.
 * yajl turns an unpaired high surrogate escape ("\ud800") into "?", writes an
 * unpaired low one ("\udc00") as three bytes that are not UTF-8, and pairs a high
 * surrogate with whatever \u escape follows it. RFC 8259 leaves unpaired
 * surrogates to the reader; like the WHATWG and Unicode convention (and Ruby's
 * JSON), each becomes U+FFFD, so decoded text is always valid UTF-8.
 *
 * Borrows: the string's body (the bytes between its quotes, already checked by a
 * JSON lexer: every escape complete, raw bytes valid UTF-8).
 * Owns nothing; the caller's buffer bounds the output, which is never longer than
 * the body.
 */
#ifndef ACN_JSON_STRING_H
#define ACN_JSON_STRING_H

#include "acn.h"

/* Whether the body holds a \u escape of a surrogate (D800 to DFFF). */
int acn_json_string_has_surrogate(const char *body, size_t len);
/* Appends the decoded body to out. ACN_OK, or out's status (ACN_ERR_LIMIT, ACN_ERR_NOMEM). */
acn_status acn_json_string_decode(const char *body, size_t len, acn_buf *out);

/* The fast path's strict decoding (decode_anthropic.c): decodes a body not yet
 * checked by any lexer in place and returns the decoded length, or (size_t)-1
 * when it holds anything a full JSON reader should judge (an unescaped quote or
 * control byte, ill-formed UTF-8, a bad or cut escape, \u0000, an unpaired
 * surrogate). The output is never longer than the body. */
size_t acn_json_string_unescape_in_place(char *body, size_t len);

#endif
