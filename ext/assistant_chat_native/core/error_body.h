/*
 * error_body.h: what a provider's error body says, whatever its shape.
 *
 * Reads the providers' documented error shapes:
 *   Anthropic {"type":"error","error":{"type":"rate_limit_error","message":"..."}}
 *   OpenAI    {"error":{"message":"...","type":"...","code":"...","param":...}}
 *             (and `[{"error":{...}}]`, as some compatible endpoints send)
 *   Gemini    {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED",
 *              "details":[RetryInfo, QuotaFailure, ErrorInfo, ...]}}
 * Borrows the body for the call only. Work is bounded: a body of at most
 * ACN_CLASSIFY_MAX_JSON bytes is read in one pass by the JSON walker (no tree, no
 * recursion, no comments, no nesting past ACN_JSON_MAX_DEPTH; a body it refuses
 * stays unread, json 0), and the message is lowercased for phrase search up to
 * ACN_CLASSIFY_MAX_SCAN bytes.
 */
#ifndef ACN_ERROR_BODY_H
#define ACN_ERROR_BODY_H

#include "classify.h"

#define ACN_ERROR_FIELD_MAX 96

/* What the body said, whatever its shape. Strings are raw (cleaned when written out). */
typedef struct acn_error_body {
    int json;                         /* the body parsed as JSON */
    int has_error;                    /* it held an error object, an error string, or a message */
    char type[ACN_ERROR_FIELD_MAX];   /* Anthropic/OpenAI error.type */
    char code[ACN_ERROR_FIELD_MAX];   /* OpenAI error.code when a string */
    char status[ACN_ERROR_FIELD_MAX]; /* Gemini error.status */
    int numeric_code; /* Gemini error.code, or a compatible endpoint's numeric code; 0 when none */
    char message[ACN_FAILURE_DETAIL_MAX];
    size_t message_len;
    int has_message;
    double retry_delay; /* Gemini RetryInfo.retryDelay in seconds, -1 when none */
    int quota_per_day;  /* a QuotaFailure names a daily quota */
    int quota_per_minute;
    int api_key_invalid;                   /* ErrorInfo reason API_KEY_INVALID */
    char lower[ACN_CLASSIFY_MAX_SCAN + 1]; /* the message lowercased, for phrase search */
    size_t lower_len;
} acn_error_body;

/* An empty reading: no fields, no message, no retry delay. */
void acn_error_body_init(acn_error_body *pe);
/* Reads a JSON error body into pe (left as it is when the body is not JSON). */
void acn_error_body_read(acn_error_body *pe, const char *body, size_t len);
/* Sets the message (cut to ACN_FAILURE_DETAIL_MAX - 1 bytes) and its lowercase copy. */
void acn_error_body_set_message(acn_error_body *pe, const char *text, size_t len);
/* Whether the lowercased message holds needle (lowercase). */
int acn_error_body_has(const acn_error_body *pe, const char *needle);
int acn_error_body_has_any(const acn_error_body *pe, const char *const *needles, size_t count);
#define ACN_ERROR_BODY_HAS_ANY(pe, list)                                                                     \
    acn_error_body_has_any((pe), (list), sizeof(list) / sizeof((list)[0]))
/* Position of needle (lowercase) in hay (already lowercase), or -1. */
long acn_lower_find(const char *hay, size_t len, const char *needle);

#endif
