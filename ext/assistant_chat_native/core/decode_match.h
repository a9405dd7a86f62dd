/*
 * decode_match.h: matching what a payload says against the names a dialect knows:
 * a string, a key at one level of the walk, a stop reason by table. Shared by the
 * dialects (decode_anthropic.c, decode_openai.c, decode_gemini.c) so each holds
 * only its own names, never its own copy of how to compare them.
 *
 * Borrows: the text, the walk and the tables, for the call only. Owns nothing.
 * Comparisons are exact and by length: no case folding, and a NUL inside the
 * text never matches.
 */
#ifndef ACN_DECODE_MATCH_H
#define ACN_DECODE_MATCH_H

#include "event.h"
#include "json_walk.h"

#include <stddef.h>
#include <string.h>

/* text[0, len) is exactly `literal`. Inline: every key of every payload goes
 * through here, and with a literal the length folds to a constant. */
static inline int acn_decode_is(const char *text, size_t len, const char *literal)
{
    size_t n = strlen(literal);

    return n == len && memcmp(text, literal, n) == 0;
}

/* The key at `level` of the walk's path is exactly `literal`. */
static inline int acn_decode_key_is(const acn_json_walk *w, size_t level, const char *literal)
{
    return acn_decode_is(w->frames[level].key, w->frames[level].key_len, literal);
}

/* text[0, len) is one of `names`, a list that ends with NULL. */
int acn_decode_one_of(const char *text, size_t len, const char *const *names);

/* A provider's stop string and the reason it stands for. A table ends with an
 * entry whose name is NULL: its reason is the one for every string not listed. */
typedef struct acn_stop_name {
    const char *name;
    acn_stop_reason reason;
} acn_stop_name;

acn_stop_reason acn_decode_stop_reason(const acn_stop_name *table, const char *text, size_t len);

#endif
