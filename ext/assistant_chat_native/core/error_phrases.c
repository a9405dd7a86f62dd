/*
 * error_phrases.c: what a message's words and codes say (error_phrases.h). The
 * phrases are failure_kinds.def's; the codes and the order they are tried in are
 * the classifier's.
 */
#include "error_phrases.h"

#include "retry_after.h"

#include <string.h>

static int eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

typedef struct phrase {
    acn_failure_kind kind;
    const char *text;
} phrase;

/* failure_kinds.def's phrases, each with the kind it identifies. */
static const phrase phrases[] = {
#define ACN_FAILURE_PHRASE(KIND, text) {ACN_FAILURE_##KIND, text},
#include "failure_kinds.def"
};

/* Whether the message holds one of the phrases that identify `kind`. */
static int says(const acn_error_body *pe, acn_failure_kind kind)
{
    size_t i;

    for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
        if (phrases[i].kind == kind && acn_error_body_has(pe, phrases[i].text))
            return 1;
    }
    return 0;
}

size_t acn_error_phrase_count(void)
{
    return sizeof(phrases) / sizeof(phrases[0]);
}

const char *acn_error_phrase_at(size_t i, acn_failure_kind *kind)
{
    if (i >= acn_error_phrase_count())
        return NULL;
    *kind = phrases[i].kind;
    return phrases[i].text;
}

int acn_error_about_model(const acn_error_body *pe)
{
    if (eq(pe->code, "model_not_found") || eq(pe->type, "model_not_found"))
        return 1;
    if (pe->lower_len >= 6 && memcmp(pe->lower, "model:", 6) == 0)
        return 1;
    return acn_error_body_has(pe, "model") && says(pe, ACN_FAILURE_INVALID_MODEL);
}

int acn_error_about_context(const acn_error_body *pe)
{
    return eq(pe->code, "context_length_exceeded") || eq(pe->type, "context_length_exceeded") ||
           says(pe, ACN_FAILURE_CONTEXT_OVERFLOW);
}

int acn_error_about_quota(const acn_error_body *pe)
{
    return eq(pe->code, "insufficient_quota") || eq(pe->type, "insufficient_quota") ||
           eq(pe->type, "billing_error") || eq(pe->code, "billing_hard_limit_reached") ||
           eq(pe->code, "billing_not_active") || says(pe, ACN_FAILURE_QUOTA_EXHAUSTED);
}

int acn_error_about_auth(const acn_error_body *pe)
{
    return eq(pe->type, "authentication_error") || eq(pe->code, "invalid_api_key") ||
           eq(pe->status, "UNAUTHENTICATED") || pe->api_key_invalid || says(pe, ACN_FAILURE_AUTHENTICATION);
}

/*
 * A wait the message states, for when no header or RetryInfo does: OpenAI's
 * "Please try again in 1m30.5s" (a Go duration), Gemini's "Please retry in 56.68s"
 * and Azure's "Please retry after 20 seconds". -1 when the message states none.
 */
double acn_error_wait_in_words(const acn_error_body *pe)
{
    long at = acn_lower_find(pe->lower, pe->lower_len, "try again in ");
    size_t i, start;
    double seconds = 0;

    if (at >= 0) {
        i = (size_t)at + 13;
        return acn_go_duration_parse(pe->lower + i, pe->lower_len - i);
    }
    at = acn_lower_find(pe->lower, pe->lower_len, "retry in ");
    if (at >= 0) {
        i = (size_t)at + 9;
        return acn_go_duration_parse(pe->lower + i, pe->lower_len - i);
    }
    at = acn_lower_find(pe->lower, pe->lower_len, "retry after ");
    if (at < 0)
        return -1;
    i = start = (size_t)at + 12;
    while (i < pe->lower_len && i - start < 9 && pe->lower[i] >= '0' && pe->lower[i] <= '9')
        seconds = seconds * 10 + (pe->lower[i++] - '0');
    if (i == start || pe->lower_len - i < 7 || memcmp(pe->lower + i, " second", 7) != 0)
        return -1;
    return seconds;
}

int acn_error_about_region(const acn_error_body *pe)
{
    return says(pe, ACN_FAILURE_PERMISSION);
}

int acn_error_about_filter(const acn_error_body *pe)
{
    return says(pe, ACN_FAILURE_REFUSAL);
}
