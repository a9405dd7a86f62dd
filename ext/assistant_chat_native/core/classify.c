/*
 * classify.c: decides which kind of failure something was (DESIGN.md section 5)
 * from the provider, HTTP status, headers, body or mid-stream error payload,
 * libcurl's code, and whether output was already streamed. What the body says is
 * read by error_body.c, what its words mean by error_phrases.c (its phrases
 * are failure_kinds.def's), the model it names by model_name.c, libcurl's codes by
 * transport_error.c, and header waits by retry_after.c. Borrows every input for
 * the call only; a body the JSON reader refuses is read as text.
 */
#include "classify.h"

#include "error_body.h"
#include "error_phrases.h"
#include "model_name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SNIPPET_MAX 300

/* ---- small string helpers ---- */

static int eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static char lower_char(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int eq_ci(const char *a, size_t alen, const char *b)
{
    size_t i, blen = strlen(b);

    if (alen != blen)
        return 0;
    for (i = 0; i < alen; i++) {
        if (lower_char(a[i]) != b[i])
            return 0;
    }
    return 1;
}

static int blank(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    }
    return 1;
}

/* ---- deciding ---- */

typedef struct verdict {
    acn_failure_kind kind;
    int compact; /* request_too_large because of tokens: compaction may help */
} verdict;

static verdict make(acn_failure_kind kind)
{
    verdict v;

    v.kind = kind;
    v.compact = 0;
    return v;
}

static verdict too_large(const acn_error_body *pe)
{
    verdict v = make(ACN_FAILURE_REQUEST_TOO_LARGE);

    v.compact = acn_error_about_context(pe) || acn_error_body_has(pe, "token");
    return v;
}

/* A 429 whose request alone is over the per-minute budget: waiting will not help. */
static int request_over_budget(const acn_error_body *pe)
{
    return pe->lower_len >= 17 && memcmp(pe->lower, "request too large", 17) == 0;
}

static verdict rate_limit(const acn_error_body *pe)
{
    if (request_over_budget(pe))
        return too_large(pe);
    return make(ACN_FAILURE_RATE_LIMITED);
}

/* Gemini's RESOURCE_EXHAUSTED covers both a per-minute limit and a used-up quota. */
static verdict resource_exhausted(const acn_error_body *pe)
{
    if (pe->quota_per_day)
        return make(ACN_FAILURE_QUOTA_EXHAUSTED);
    if (acn_error_body_has(pe, "billing") && pe->retry_delay < 0 && !pe->quota_per_minute)
        return make(ACN_FAILURE_QUOTA_EXHAUSTED);
    return make(ACN_FAILURE_RATE_LIMITED);
}

/* What the provider's own codes say, when they say something specific. */
static int by_code(const acn_error_body *pe, int status, verdict *out)
{
    const char *t = pe->type, *c = pe->code, *s = pe->status;

    /* Anthropic's billing_error (HTTP 402) and timeout_error (HTTP 504) are read
     * here, not from the status: after HTTP 200 an error event carries only them. */
    if (eq(c, "insufficient_quota") || eq(t, "insufficient_quota") || eq(t, "billing_error") ||
        eq(c, "billing_hard_limit_reached") || eq(c, "billing_not_active"))
        *out = make(ACN_FAILURE_QUOTA_EXHAUSTED);
    else if (eq(c, "context_length_exceeded") || eq(t, "context_length_exceeded"))
        *out = status == 413 ? too_large(pe) : make(ACN_FAILURE_CONTEXT_OVERFLOW);
    else if (eq(c, "model_not_found") || eq(t, "model_not_found"))
        *out = make(ACN_FAILURE_INVALID_MODEL);
    else if (eq(t, "authentication_error") || eq(c, "invalid_api_key") || eq(s, "UNAUTHENTICATED") ||
             pe->api_key_invalid)
        *out = make(ACN_FAILURE_AUTHENTICATION);
    else if (eq(c, "rate_limit_exceeded") || eq(t, "rate_limit_error") || eq(t, "rate_limit_exceeded"))
        *out = rate_limit(pe);
    else if (eq(s, "RESOURCE_EXHAUSTED"))
        *out = resource_exhausted(pe);
    else if (eq(t, "overloaded_error") || eq(s, "UNAVAILABLE"))
        *out = make(ACN_FAILURE_OVERLOADED);
    else if (eq(t, "permission_error") || eq(s, "PERMISSION_DENIED"))
        *out = make(ACN_FAILURE_PERMISSION);
    else if (eq(t, "request_too_large"))
        *out = too_large(pe);
    else if (eq(t, "timeout_error") || eq(s, "DEADLINE_EXCEEDED"))
        *out = make(ACN_FAILURE_TIMEOUT);
    else if (eq(c, "content_filter") || eq(c, "content_policy_violation"))
        *out = make(ACN_FAILURE_REFUSAL);
    else if (eq(t, "api_error") || eq(t, "server_error") || eq(c, "server_error") || eq(s, "INTERNAL"))
        *out = make(status == 503 || status == 529 || acn_error_body_has(pe, "overloaded")
                        ? ACN_FAILURE_OVERLOADED
                        : ACN_FAILURE_SERVER_ERROR);
    else
        return 0;
    return 1;
}

/* What the message's words say, for errors whose codes are generic. */
static int by_phrase(const acn_error_body *pe, int status, verdict *out)
{
    if (acn_error_about_auth(pe) || status == 401)
        *out = make(ACN_FAILURE_AUTHENTICATION);
    else if (acn_error_about_quota(pe))
        *out = make(ACN_FAILURE_QUOTA_EXHAUSTED);
    else if (status == 429)
        return 0;
    else if (acn_error_about_context(pe))
        *out = status == 413 ? too_large(pe) : make(ACN_FAILURE_CONTEXT_OVERFLOW);
    else if (acn_error_about_model(pe))
        *out = make(ACN_FAILURE_INVALID_MODEL);
    else if (acn_error_about_region(pe))
        *out = make(ACN_FAILURE_PERMISSION);
    else if (acn_error_about_filter(pe))
        *out = make(ACN_FAILURE_REFUSAL);
    else
        return 0;
    return 1;
}

static verdict by_status(const acn_error_body *pe, int status, int empty_body)
{
    switch (status) {
    case 400: return make(empty_body ? ACN_FAILURE_EMPTY_BAD_REQUEST : ACN_FAILURE_BAD_REQUEST);
    case 401: return make(ACN_FAILURE_AUTHENTICATION);
    case 402: return make(ACN_FAILURE_QUOTA_EXHAUSTED);
    case 403: return make(ACN_FAILURE_PERMISSION);
    case 408: return make(ACN_FAILURE_TIMEOUT);
    case 413: return too_large(pe);
    case 429: return rate_limit(pe);
    case 503:
    case 529: return make(ACN_FAILURE_OVERLOADED);
    case 504: return make(ACN_FAILURE_TIMEOUT);
    default: break;
    }
    if (status >= 500)
        return make(acn_error_body_has(pe, "overloaded") ? ACN_FAILURE_OVERLOADED : ACN_FAILURE_SERVER_ERROR);
    return make(ACN_FAILURE_BAD_REQUEST);
}

/* ---- transport ---- */

/* The failure each transport error is, and what the detail says of it. */
typedef struct transport_info {
    acn_failure_kind kind;
    const char *what;
} transport_info;

/* failure_kinds.def's transport rows, indexed by acn_transport_error. */
static const transport_info transports[] = {
    [ACN_TRANSPORT_NONE] = {ACN_FAILURE_NONE, ""},
#define ACN_FAILURE_TRANSPORT(ERROR, KIND, what) [ACN_TRANSPORT_##ERROR] = {ACN_FAILURE_##KIND, what},
#include "failure_kinds.def"
};

#define TRANSPORT_COUNT ((int)(sizeof(transports) / sizeof(transports[0])))

acn_failure_kind acn_classify_transport_kind(acn_transport_error error, const char **what)
{
    if ((unsigned)error >= (unsigned)TRANSPORT_COUNT) {
        *what = "";
        return ACN_FAILURE_NONE;
    }
    *what = transports[error].what;
    return transports[error].kind;
}

static void classify_transport(const acn_classify_input *in, acn_transport_error error, acn_failure *out)
{
    char text[ACN_FAILURE_DETAIL_MAX];

    if ((unsigned)error >= (unsigned)TRANSPORT_COUNT)
        error = ACN_TRANSPORT_LOST;
    acn_failure_init(out, transports[error].kind, in->status);
    if (error == ACN_TRANSPORT_TOO_LARGE || acn_transport_curl_is_permanent(in->curl_code, error)) {
        /* The same bytes or the same configuration would fail the same way again. */
        out->retryable = 0;
        out->action = ACN_ACTION_FAIL;
    }
    if (in->transport_detail != NULL && in->transport_detail[0] != '\0')
        snprintf(text, sizeof(text), "%s", in->transport_detail);
    else if (in->curl_code != 0)
        snprintf(text, sizeof(text), "%s (libcurl error %d: %s)", transports[error].what, in->curl_code,
                 acn_transport_curl_text(in->curl_code));
    else
        snprintf(text, sizeof(text), "%s", transports[error].what);
    acn_failure_set_detail(out, text, strlen(text));
}

/* ---- headers ---- */

typedef struct header_facts {
    double retry_after; /* -1 when none */
    int should_retry;   /* 1 true, 0 false, -1 not sent */
} header_facts;

static header_facts read_headers(const acn_classify_input *in, double now)
{
    header_facts facts;
    double ms = -1, seconds = -1;
    size_t i;

    facts.retry_after = -1;
    facts.should_retry = -1;
    for (i = 0; in->headers != NULL && i < in->header_count; i++) {
        const acn_header *h = &in->headers[i];
        const char *value = h->value != NULL ? h->value : "";
        size_t vlen = h->value != NULL ? h->value_len : 0;

        if (h->name == NULL)
            continue;
        if (eq_ci(h->name, h->name_len, "retry-after-ms")) {
            if (ms < 0)
                ms = acn_retry_after_ms_parse(value, vlen);
        } else if (eq_ci(h->name, h->name_len, "retry-after")) {
            if (seconds < 0)
                seconds = acn_retry_after_parse(value, vlen, now);
        } else if (eq_ci(h->name, h->name_len, "x-should-retry") && facts.should_retry < 0) {
            while (vlen > 0 && (value[0] == ' ' || value[0] == '\t')) {
                value++;
                vlen--;
            }
            while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
                vlen--;
            if (eq_ci(value, vlen, "true"))
                facts.should_retry = 1;
            else if (eq_ci(value, vlen, "false"))
                facts.should_retry = 0;
        }
    }
    /* The millisecond form is the more precise of the two when both came. */
    facts.retry_after = ms >= 0 ? ms : seconds;
    return facts;
}

/* ---- writing the failure ---- */

static void write_invalid_model(const acn_error_body *pe, acn_failure *out)
{
    char name[ACN_ERROR_MODEL_NAME_MAX + 1];

    if (acn_error_model_name(pe, name, sizeof(name)) == 0)
        return;
    acn_failure_case_copy_fill(out->message, sizeof(out->message), ACN_COPY_INVALID_MODEL_NAMED, name);
}

static void write_detail(const acn_classify_input *in, const acn_error_body *pe, int empty_body,
                         acn_failure *out)
{
    char text[ACN_FAILURE_DETAIL_MAX];
    size_t snippet;

    if (pe->has_message && pe->message_len > 0) {
        acn_failure_set_detail(out, pe->message, pe->message_len);
        if (out->detail[0] != '\0')
            return;
    }
    if (pe->type[0] != '\0' || pe->code[0] != '\0' || pe->status[0] != '\0') {
        snprintf(text, sizeof(text), "HTTP %d: %s%s%s%s%s", in->status, pe->type,
                 pe->type[0] && (pe->code[0] || pe->status[0]) ? " " : "", pe->code,
                 pe->code[0] && pe->status[0] ? " " : "", pe->status);
    } else if (empty_body) {
        snprintf(text, sizeof(text), "HTTP %d with an empty body", in->status);
    } else if (in->body != NULL) {
        /* Not JSON (a proxy's HTML page, say): its first bytes, cleaned. */
        int prefix = snprintf(text, sizeof(text), "HTTP %d: ", in->status);
        snippet = in->body_len < SNIPPET_MAX ? in->body_len : SNIPPET_MAX;
        memcpy(text + prefix, in->body, snippet); /* bytes, NULs included: cleaning folds them */
        acn_failure_set_detail(out, text, (size_t)prefix + snippet);
        return;
    } else {
        snprintf(text, sizeof(text), "HTTP %d", in->status);
    }
    acn_failure_set_detail(out, text, strlen(text));
}

static void classify_response(const acn_classify_input *in, acn_failure *out)
{
    acn_error_body *pe;
    verdict v;
    int status = in->status;
    int empty_body = in->body == NULL || blank(in->body, in->body_len);

    pe = calloc(1, sizeof(*pe));
    if (pe == NULL) {
        acn_failure_init(out, status >= 500 ? ACN_FAILURE_SERVER_ERROR : ACN_FAILURE_BAD_REQUEST, status);
        return;
    }
    acn_error_body_init(pe);
    acn_error_body_read(pe, in->body, in->body_len);
    if (!pe->json && !empty_body && (in->mid_stream || in->body[0] != '<')) {
        /* Plain text: a mid-stream error's words, or a proxy's one-line answer. */
        size_t len = in->body_len < ACN_FAILURE_DETAIL_MAX - 1 ? in->body_len : ACN_FAILURE_DETAIL_MAX - 1;
        acn_error_body_set_message(pe, in->body, len);
        pe->has_error = in->mid_stream;
    }
    /* A mid-stream error (HTTP 200) may carry the status it stands for. */
    if (status < 400 && pe->numeric_code >= 400)
        status = pe->numeric_code;

    if (by_code(pe, status, &v)) {
        /* the provider's code was specific */
    } else if (status < 500 && by_phrase(pe, status, &v)) {
        /* the words were */
    } else if (status >= 400) {
        v = by_status(pe, status, empty_body);
    } else if (pe->has_error || in->mid_stream) {
        /* An error event in a stream that was accepted: the request was fine. */
        if (eq(pe->type, "invalid_request_error") || eq(pe->status, "INVALID_ARGUMENT") ||
            eq(pe->status, "FAILED_PRECONDITION"))
            v = make(ACN_FAILURE_BAD_REQUEST);
        else if (acn_error_body_has(pe, "overloaded"))
            v = make(ACN_FAILURE_OVERLOADED);
        else if (acn_error_body_has(pe, "rate limit") || acn_error_body_has(pe, "too many requests"))
            v = make(ACN_FAILURE_RATE_LIMITED); /* OpenAI-compatible servers say so mid-stream */
        else
            v = make(ACN_FAILURE_SERVER_ERROR);
    } else if (status >= 300 || status == 0) {
        v = make(ACN_FAILURE_CONNECTION_FAILED); /* a redirect we do not follow */
    } else {
        v = make(ACN_FAILURE_MALFORMED_STREAM); /* a success status with no stream in it */
    }

    acn_failure_init(out, v.kind, in->status);
    if (v.kind == ACN_FAILURE_CONNECTION_FAILED && status >= 300) {
        /* A redirect we do not follow answers the same way every time. */
        out->retryable = 0;
        out->action = ACN_ACTION_FAIL;
    }
    if (v.kind == ACN_FAILURE_REQUEST_TOO_LARGE && v.compact)
        out->action = ACN_ACTION_COMPACT;
    if (v.kind == ACN_FAILURE_INVALID_MODEL)
        write_invalid_model(pe, out);
    if (v.kind == ACN_FAILURE_BAD_REQUEST && pe->has_message && (pe->json || in->mid_stream)) {
        /* Unrecognised: the provider's own words are the best copy there is. */
        if (acn_failure_set_message(out, pe->message, pe->message_len) == 0)
            acn_failure_set_message(out, acn_failure_copy(v.kind), strlen(acn_failure_copy(v.kind)));
    }
    write_detail(in, pe, empty_body, out);
    if (pe->retry_delay >= 0)
        out->retry_after = pe->retry_delay;
    else if (v.kind == ACN_FAILURE_RATE_LIMITED || v.kind == ACN_FAILURE_OVERLOADED)
        out->retry_after = acn_error_wait_in_words(pe);
    free(pe);
}

void acn_classify(const acn_classify_input *input, acn_failure *out)
{
    acn_transport_error error = input->transport_error;
    double now = input->now > 0 ? input->now : (double)time(NULL);

    if (error == ACN_TRANSPORT_NONE && input->curl_code != 0)
        error = acn_transport_error_from_curl(input->curl_code);

    if (error == ACN_TRANSPORT_CANCELLED) {
        classify_transport(input, error, out);
        return; /* cancelled never retries, whatever a header says */
    }
    if (input->status >= 400 || input->mid_stream || error == ACN_TRANSPORT_NONE)
        classify_response(input, out);
    else
        classify_transport(input, error, out);

    if (input->status >= 400) {
        /* retry-after and x-should-retry speak for an error response, not for a 200 whose stream broke. */
        header_facts facts = read_headers(input, now);

        if (facts.retry_after >= 0)
            out->retry_after = facts.retry_after;
        if (facts.should_retry == 1) {
            out->retryable = 1;
            if (out->action == ACN_ACTION_FAIL)
                out->action = ACN_ACTION_RETRY;
        } else if (facts.should_retry == 0) {
            out->retryable = 0;
            if (out->action == ACN_ACTION_RETRY)
                out->action = ACN_ACTION_FAIL;
        }
    }
    if (input->streamed) {
        static const char note[] = " (part of the reply had already been streamed)";
        size_t len = strlen(out->detail);
        if (len == 0) {
            memcpy(out->detail, note + 1, sizeof(note) - 1);
            return;
        }
        if (len + sizeof(note) > sizeof(out->detail))
            len = sizeof(out->detail) - sizeof(note);
        /* Cut at a character boundary to make room for the note. */
        while (len > 0 && ((unsigned char)out->detail[len] & 0xC0) == 0x80)
            len--;
        memcpy(out->detail + len, note, sizeof(note));
    }
}
