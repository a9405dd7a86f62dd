/*
 * error_phrases.h: what the words of a provider's error say. The phrases (lowercase,
 * as the providers and compatible servers use them) are failure_kinds.def's rows,
 * each naming the kind it identifies; a message is searched in its lowercased
 * first ACN_CLASSIFY_MAX_SCAN bytes (error_body.h).
 */
#ifndef ACN_ERROR_PHRASES_H
#define ACN_ERROR_PHRASES_H

#include "error_body.h"

int acn_error_about_model(const acn_error_body *pe);   /* the model does not exist or is unknown */
int acn_error_about_context(const acn_error_body *pe); /* the prompt is over the context window */
int acn_error_about_quota(const acn_error_body *pe);   /* credits, billing or quota are used up */
int acn_error_about_auth(const acn_error_body *pe);    /* the API key is missing or invalid */
int acn_error_about_region(const acn_error_body *pe);  /* refused for the location, or a disabled account */
int acn_error_about_filter(const acn_error_body *pe);  /* a content or safety policy refused the request */
/* The phrase table, for readers of the taxonomy (the Ruby binding): how many
 * phrases there are, and the i-th with the kind it identifies (NULL past the end). */
size_t acn_error_phrase_count(void);
const char *acn_error_phrase_at(size_t i, acn_failure_kind *kind);
/* Seconds the message asks to wait ("try again in 1m30s"), or -1. */
double acn_error_wait_in_words(const acn_error_body *pe);

#endif
