/*
 * error_phrases.c: the phrase tables and what they decide (error_phrases.h).
 */
#include "error_phrases.h"

#include "retry_after.h"

#include <string.h>

static int eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static const char *const context_phrases[] = {
    "prompt is too long",
    "prompt too long",
    "context length",
    "context_length",
    "maximum context",
    "context window",
    "context limit",
    "too many tokens",
    "input is too long",
    "exceeds the maximum number of tokens",
    "maximum number of tokens allowed",
    "input token count",
    "reduce the length of the messages",
};

static const char *const quota_phrases[] = {
    "credit balance",       "billing",         "insufficient_quota", "insufficient balance",
    "insufficient credits", "api usage limit", "usage limits",       "exceeded your current quota",
    "spend limit",
};

static const char *const auth_phrases[] = {
    "api key not valid", "invalid api key", "incorrect api key", "invalid x-api-key",
    "invalid_api_key",   "api key expired", "no api key",        "missing api key",
};

static const char *const location_phrases[] = {
    "location is not supported",
    "not available in your country",
    "not supported in your region",
    "unsupported_country",
    "country, region, or territory not supported",
};

static const char *const disabled_phrases[] = {
    "has been disabled",     "has been deactivated",     "has been suspended",
    "account is not active", "organization is disabled",
};

static const char *const filter_phrases[] = {
    "content management policy",
    "content filtering policy",
    "content_policy_violation",
    "safety system",
};

static const char *const model_phrases[] = {
    "does not exist", "not found",           "invalid model",     "unknown model",
    "no such model",  "model not available", "not a valid model", "unexpected model name",
};

static int model_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '@';
}

/*
 * The model a message names: "model: claude-x", "The model `gpt-x` does not
 * exist", "models/gemini-x is not found". Only names that look like model ids
 * (a digit, '-', '.', '_' or '/' in them) count. Returns the length copied.
 */
size_t acn_error_model_name(const acn_error_body *pe, char *out, size_t cap)
{
    size_t from = 0;

    while (from < pe->lower_len) {
        long at = acn_lower_find(pe->lower + from, pe->lower_len - from, "model");
        size_t i, start, n, k;
        int looks_like_id = 0;

        if (at < 0)
            return 0;
        i = from + (size_t)at + 5;
        from = i;
        if (i < pe->lower_len && pe->lower[i] == 's' && i + 1 < pe->lower_len && pe->lower[i + 1] == '/')
            i += 2;
        while (i < pe->lower_len && (pe->lower[i] == ':' || pe->lower[i] == ' ' || pe->lower[i] == '`' ||
                                     pe->lower[i] == '\'' || pe->lower[i] == '"'))
            i++;
        start = i;
        while (i < pe->lower_len && model_name_char(pe->message[i]) && i - start < ACN_ERROR_MODEL_NAME_MAX)
            i++;
        n = i - start;
        while (n > 0 && (pe->message[start + n - 1] == '.' || pe->message[start + n - 1] == ':'))
            n--;
        for (k = 0; k < n; k++) {
            char c = pe->message[start + k];
            if ((c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '/')
                looks_like_id = 1;
        }
        if (n > 0 && looks_like_id && n < cap) {
            memcpy(out, pe->message + start, n);
            out[n] = '\0';
            return n;
        }
    }
    return 0;
}

int acn_error_about_model(const acn_error_body *pe)
{
    if (eq(pe->code, "model_not_found") || eq(pe->type, "model_not_found"))
        return 1;
    if (pe->lower_len >= 6 && memcmp(pe->lower, "model:", 6) == 0)
        return 1;
    return acn_error_body_has(pe, "model") && ACN_ERROR_BODY_HAS_ANY(pe, model_phrases);
}

int acn_error_about_context(const acn_error_body *pe)
{
    return eq(pe->code, "context_length_exceeded") || eq(pe->type, "context_length_exceeded") ||
           ACN_ERROR_BODY_HAS_ANY(pe, context_phrases);
}

int acn_error_about_quota(const acn_error_body *pe)
{
    return eq(pe->code, "insufficient_quota") || eq(pe->type, "insufficient_quota") ||
           eq(pe->code, "billing_hard_limit_reached") || eq(pe->code, "billing_not_active") ||
           ACN_ERROR_BODY_HAS_ANY(pe, quota_phrases);
}

int acn_error_about_auth(const acn_error_body *pe)
{
    return eq(pe->type, "authentication_error") || eq(pe->code, "invalid_api_key") ||
           eq(pe->status, "UNAUTHENTICATED") || pe->api_key_invalid ||
           ACN_ERROR_BODY_HAS_ANY(pe, auth_phrases);
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
    return ACN_ERROR_BODY_HAS_ANY(pe, location_phrases) || ACN_ERROR_BODY_HAS_ANY(pe, disabled_phrases);
}

int acn_error_about_filter(const acn_error_body *pe)
{
    return ACN_ERROR_BODY_HAS_ANY(pe, filter_phrases);
}
