/*
 * error_phrases.h: what the words of a provider's error say. Each table lists
 * phrases (lowercase) the providers and compatible servers use; a message is
 * searched in its lowercased first ACN_CLASSIFY_MAX_SCAN bytes (error_body.h).
 */
#ifndef ACN_ERROR_PHRASES_H
#define ACN_ERROR_PHRASES_H

#include "error_body.h"

#define ACN_ERROR_MODEL_NAME_MAX 100

int acn_error_about_model(const acn_error_body *pe);   /* the model does not exist or is unknown */
int acn_error_about_context(const acn_error_body *pe); /* the prompt is over the context window */
int acn_error_about_quota(const acn_error_body *pe);   /* credits, billing or quota are used up */
int acn_error_about_auth(const acn_error_body *pe);    /* the API key is missing or invalid */
int acn_error_about_region(const acn_error_body *pe);  /* refused for the location, or a disabled account */
int acn_error_about_filter(const acn_error_body *pe);  /* a content or safety policy refused the request */
/*
 * The model a message names: "model: claude-x", "The model `gpt-x` does not
 * exist", "models/gemini-x is not found". Only names that look like model ids
 * count. Copies at most cap - 1 bytes and a NUL; returns the length, 0 for none.
 */
size_t acn_error_model_name(const acn_error_body *pe, char *out, size_t cap);
/* Seconds the message asks to wait ("try again in 1m30s"), or -1. */
double acn_error_wait_in_words(const acn_error_body *pe);

#endif
