/*
 * classify.c: decides which kind of failure something was (DESIGN.md section 5)
 * from the provider, HTTP status, headers, body or mid-stream error payload,
 * libcurl's code, and whether output was already streamed.
 *
 * Reads the providers' documented error shapes:
 *   Anthropic {"type":"error","error":{"type":"rate_limit_error","message":"..."}}
 *   OpenAI    {"error":{"message":"...","type":"...","code":"...","param":...}}
 *             (and `[{"error":{...}}]`, as some compatible endpoints send)
 *   Gemini    {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED",
 *              "details":[RetryInfo, QuotaFailure, ErrorInfo, ...]}}
 * Borrows every input for the call only. Work is bounded: a body of at most
 * ACN_CLASSIFY_MAX_JSON bytes is read in one pass by the JSON walker (no tree, no
 * recursion, no comments, no nesting past ACN_JSON_MAX_DEPTH; a body it refuses is
 * read as text), and at most ACN_CLASSIFY_MAX_SCAN bytes of a message are searched
 * for phrases.
 */
#include "classify.h"

#include <curl/curl.h>
#include "json_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD_MAX      96
#define MODEL_NAME_MAX 100
#define SNIPPET_MAX    300
#define MAX_DETAILS    16

/* What the body said, whatever its shape. Strings are raw (cleaned when written out). */
typedef struct provider_error {
    int json;               /* the body parsed as JSON */
    int has_error;          /* it held an error object, an error string, or a message */
    char type[FIELD_MAX];   /* Anthropic/OpenAI error.type */
    char code[FIELD_MAX];   /* OpenAI error.code when a string */
    char status[FIELD_MAX]; /* Gemini error.status */
    int numeric_code;       /* Gemini error.code, or a compatible endpoint's numeric code; 0 when none */
    char message[ACN_FAILURE_DETAIL_MAX];
    size_t message_len;
    int has_message;
    double retry_delay; /* Gemini RetryInfo.retryDelay in seconds, -1 when none */
    int quota_per_day;  /* a QuotaFailure names a daily quota */
    int quota_per_minute;
    int api_key_invalid;                   /* ErrorInfo reason API_KEY_INVALID */
    char lower[ACN_CLASSIFY_MAX_SCAN + 1]; /* the message lowercased, for phrase search */
    size_t lower_len;
} provider_error;

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

/* Position of `needle` (lowercase) in `hay` (already lowercase), or -1. */
static long find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle), i;

    if (n == 0 || n > len)
        return -1;
    for (i = 0; i + n <= len; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
            return (long)i;
    }
    return -1;
}

static int has(const provider_error *pe, const char *needle)
{
    return find(pe->lower, pe->lower_len, needle) >= 0;
}

static int has_any(const provider_error *pe, const char *const *needles, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        if (has(pe, needles[i]))
            return 1;
    }
    return 0;
}

#define HAS_ANY(pe, list) has_any((pe), (list), sizeof(list) / sizeof((list)[0]))

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);

    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void set_message(provider_error *pe, const char *text, size_t len)
{
    size_t i;

    if (len >= sizeof(pe->message))
        len = sizeof(pe->message) - 1;
    memcpy(pe->message, text, len);
    pe->message[len] = '\0';
    pe->message_len = len;
    pe->has_message = 1;
    pe->lower_len = len < ACN_CLASSIFY_MAX_SCAN ? len : ACN_CLASSIFY_MAX_SCAN;
    for (i = 0; i < pe->lower_len; i++)
        pe->lower[i] = lower_char(text[i]);
    pe->lower[pe->lower_len] = '\0';
}

/* ---- reading the body ---- */

/*
 * The body is read in one pass by the JSON walker (json_walk.h): no tree is built,
 * nothing recurses, nesting past ACN_JSON_MAX_DEPTH and comments are refused, and
 * a body that is refused counts as text. The fields of two objects are collected
 * as they stream by, the body's own ("top": the root object, or the first object
 * of a root array) and those of its `error` object; which of them speaks is decided
 * once the whole body has parsed (read_json). A key that repeats keeps its first value.
 */

enum { OBJ_TOP = 0, OBJ_ERROR = 1, OBJ_COUNT = 2 };

/* What one of a detail list's entries (google.rpc.*) says; applied when it closes. */
typedef struct detail_entry {
    int seen_type, seen_delay, seen_reason;
    int retry_info, quota_failure, error_info; /* the entry's "@type" */
    double retry_delay;                        /* -1 when none */
    int per_day, per_minute, api_key_invalid;
} detail_entry;

typedef struct object_fields {
    int has_type, has_code, has_status;
    char type[FIELD_MAX];
    char code[FIELD_MAX];   /* when a string */
    char status[FIELD_MAX]; /* when a string */
    long long code_number;  /* when an integer */
    long long status_number;
    int code_is_number, status_is_number;
    int message_rank; /* 3 message, 2 detail, 1 error_description, 0 none */
    char message[ACN_FAILURE_DETAIL_MAX];
    size_t message_len;
    detail_entry entry; /* the details entry being read */
    double retry_delay; /* the first RetryInfo's */
    int quota_per_day, quota_per_minute, api_key_invalid;
} object_fields;

typedef struct body_reader {
    long chosen;    /* index of the root array's object that speaks; -1 until found */
    int error_kind; /* the top object's `error`: 0 absent, 1 object, 2 string, 3 other */
    char error_text[ACN_FAILURE_DETAIL_MAX];
    size_t error_text_len;
    object_fields obj[OBJ_COUNT];
} body_reader;

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static int key_is(const acn_json_walk *walk, size_t level, const char *key)
{
    const acn_json_frame *frame = &walk->frames[level];

    return !frame->is_array && frame->key_len == strlen(key) && memcmp(frame->key, key, frame->key_len) == 0;
}

/* Strings keep what C strings kept: the text before a NUL (cleaning folds the rest anyway). */
static size_t c_length(const char *text, size_t len)
{
    const char *nul = text != NULL ? memchr(text, '\0', len) : NULL;

    return nul != NULL ? (size_t)(nul - text) : len;
}

static void keep(char *dst, size_t cap, const char *text, size_t len)
{
    len = c_length(text, len);
    if (len >= cap)
        len = cap - 1;
    if (len > 0)
        memcpy(dst, text, len);
    dst[len] = '\0';
}

/* The level of the top object's map in the walk: 0, or 1 under a root array. */
static size_t top_level(const acn_json_walk *walk)
{
    return walk->root_is_map ? 0 : 1;
}

/* Which object's frame is at `level`, or -1: the top object, or its `error` map. */
static int object_at(const acn_json_walk *walk, const body_reader *reader, size_t level)
{
    size_t top = top_level(walk);

    if (walk->depth <= level || walk->frames[level].is_array)
        return -1;
    if (top == 1 && (reader->chosen < 0 || walk->frames[0].index != reader->chosen))
        return -1;
    if (level == top)
        return OBJ_TOP;
    if (level == top + 1 && key_is(walk, top, "error"))
        return OBJ_ERROR;
    return -1;
}

/* Whether the walk is inside entry `details[i]` (i < MAX_DETAILS) of the object whose
 * frame is at `level`: the entry's map is then at level + 2. */
static int in_details(const acn_json_walk *walk, size_t level)
{
    return walk->depth > level + 2 && key_is(walk, level, "details") && walk->frames[level + 1].is_array &&
           walk->frames[level + 1].index < MAX_DETAILS && !walk->frames[level + 2].is_array;
}

static void read_field(object_fields *o, const char *key, size_t key_len, acn_json_kind kind,
                       const char *text, size_t len)
{
    long long number;
    int rank = 0;

#define KEY(k) (key_len == sizeof(k) - 1 && memcmp(key, k, key_len) == 0)
    if (KEY("type")) {
        if (!o->has_type && kind == ACN_JSON_STRING)
            keep(o->type, sizeof(o->type), text, len);
        o->has_type = 1;
    } else if (KEY("code") || KEY("status")) {
        int is_code = KEY("code");
        int *has = is_code ? &o->has_code : &o->has_status;

        if (*has)
            return;
        *has = 1;
        if (kind == ACN_JSON_STRING) {
            keep(is_code ? o->code : o->status, FIELD_MAX, text, len);
        } else if (kind == ACN_JSON_NUMBER && acn_json_integer(text, len, &number) == 0) {
            *(is_code ? &o->code_number : &o->status_number) = number;
            *(is_code ? &o->code_is_number : &o->status_is_number) = 1;
        }
    } else if (KEY("message")) {
        rank = 3;
    } else if (KEY("detail")) {
        rank = 2;
    } else if (KEY("error_description")) {
        rank = 1;
    }
#undef KEY
    if (rank > o->message_rank && kind == ACN_JSON_STRING) {
        o->message_rank = rank;
        len = c_length(text, len);
        o->message_len = len < sizeof(o->message) ? len : sizeof(o->message) - 1;
        memcpy(o->message, text, o->message_len);
    }
}

static void read_entry_field(detail_entry *e, const acn_json_walk *walk, size_t entry_level,
                             acn_json_kind kind, const char *text, size_t len)
{
    size_t depth = walk->depth;
    int string = kind == ACN_JSON_STRING;

    if (depth == entry_level + 1) {
        if (key_is(walk, entry_level, "@type") && !e->seen_type) {
            e->seen_type = 1;
            len = string ? c_length(text, len) : 0;
            e->retry_info = string && ends_with(text, len, "google.rpc.RetryInfo");
            e->quota_failure = string && ends_with(text, len, "google.rpc.QuotaFailure");
            e->error_info = string && ends_with(text, len, "google.rpc.ErrorInfo");
        } else if (key_is(walk, entry_level, "retryDelay") && !e->seen_delay) {
            e->seen_delay = 1;
            if (string)
                e->retry_delay = acn_duration_parse(text, c_length(text, len));
        } else if (key_is(walk, entry_level, "reason") && !e->seen_reason) {
            e->seen_reason = 1;
            e->api_key_invalid = string && len == 15 && memcmp(text, "API_KEY_INVALID", 15) == 0;
        }
    } else if (string && depth == entry_level + 3 && key_is(walk, entry_level, "violations") &&
               walk->frames[entry_level + 1].is_array && walk->frames[entry_level + 1].index < MAX_DETAILS &&
               key_is(walk, entry_level + 2, "quotaId")) {
        char id[FIELD_MAX * 2];

        keep(id, sizeof(id), text, len);
        if (strstr(id, "PerDay") != NULL)
            e->per_day = 1;
        if (strstr(id, "PerMinute") != NULL)
            e->per_minute = 1;
    }
}

static void apply_entry(object_fields *o)
{
    const detail_entry *e = &o->entry;

    if (e->retry_info && e->retry_delay >= 0 && o->retry_delay < 0)
        o->retry_delay = e->retry_delay;
    if (e->quota_failure) {
        o->quota_per_day |= e->per_day;
        o->quota_per_minute |= e->per_minute;
    }
    if (e->error_info)
        o->api_key_invalid |= e->api_key_invalid;
}

static int reader_scalar(void *ctx, const acn_json_walk *walk, acn_json_kind kind, const char *text,
                         size_t len)
{
    body_reader *reader = ctx;
    size_t top = top_level(walk);
    size_t level;

    if (walk->depth == top + 1 && reader->error_kind == 0 && object_at(walk, reader, top) == OBJ_TOP &&
        key_is(walk, top, "error")) {
        reader->error_kind = kind == ACN_JSON_STRING ? 2 : 3;
        if (kind == ACN_JSON_STRING)
            keep(reader->error_text, sizeof(reader->error_text), text, len);
        reader->error_text_len = strlen(reader->error_text);
    }
    for (level = top; level <= top + 1 && level < walk->depth; level++) {
        int which = object_at(walk, reader, level);
        const acn_json_frame *frame;

        if (which < 0)
            continue;
        frame = &walk->frames[level];
        if (walk->depth == level + 1 && frame->key_len != (size_t)-1)
            read_field(&reader->obj[which], frame->key, frame->key_len, kind, text, len);
        else if (in_details(walk, level))
            read_entry_field(&reader->obj[which].entry, walk, level + 2, kind, text, len);
    }
    return 0;
}

static int reader_open(void *ctx, const acn_json_walk *walk, int is_array)
{
    body_reader *reader = ctx;
    size_t top = top_level(walk);
    size_t level;

    /* `[{"error": {...}}]`: the first object among the root array's first entries speaks. */
    if (top == 1 && walk->depth == 1) {
        if (is_array || reader->chosen >= 0 || walk->frames[0].index >= MAX_DETAILS)
            return ACN_JSON_SKIP;
        reader->chosen = walk->frames[0].index;
        return ACN_JSON_DESCEND;
    }
    if (walk->depth == top + 1 && reader->error_kind == 0 && object_at(walk, reader, top) == OBJ_TOP &&
        key_is(walk, top, "error"))
        reader->error_kind = is_array ? 3 : 1;
    /* A details entry opens: start reading it afresh. */
    for (level = top; level <= top + 1; level++) {
        if (!is_array && walk->depth == level + 2 && object_at(walk, reader, level) >= 0 &&
            key_is(walk, level, "details") && walk->frames[level + 1].is_array &&
            walk->frames[level + 1].index < MAX_DETAILS) {
            detail_entry *e = &reader->obj[object_at(walk, reader, level)].entry;

            memset(e, 0, sizeof(*e));
            e->retry_delay = -1;
        }
    }
    return ACN_JSON_DESCEND;
}

static int reader_close(void *ctx, const acn_json_walk *walk, int is_array)
{
    body_reader *reader = ctx;
    size_t top = top_level(walk);
    size_t level;

    if (is_array)
        return 0;
    for (level = top; level <= top + 1; level++) {
        if (walk->depth == level + 2 && object_at(walk, reader, level) >= 0 &&
            key_is(walk, level, "details") && walk->frames[level + 1].is_array &&
            walk->frames[level + 1].index < MAX_DETAILS)
            apply_entry(&reader->obj[object_at(walk, reader, level)]);
    }
    return 0;
}

static const acn_json_listener body_listener = {reader_scalar, reader_open, reader_close, NULL};

/* One object's fields into the provider error (read_fields of the tree reader). */
static void take_fields(const object_fields *o, provider_error *pe)
{
    if (o->type[0] != '\0')
        copy_field(pe->type, sizeof(pe->type), o->type);
    if (o->has_code && o->code[0] != '\0')
        copy_field(pe->code, sizeof(pe->code), o->code);
    else if (o->code_is_number && o->code_number >= 100 && o->code_number <= 599)
        pe->numeric_code = (int)o->code_number;
    if (o->has_status && o->status[0] != '\0')
        copy_field(pe->status, sizeof(pe->status), o->status);
    else if (o->status_is_number && pe->numeric_code == 0 && o->status_number >= 100 &&
             o->status_number <= 599)
        pe->numeric_code = (int)o->status_number;
    if (o->message_rank > 0 && !pe->has_message)
        set_message(pe, o->message, o->message_len);
    if (o->retry_delay >= 0 && pe->retry_delay < 0)
        pe->retry_delay = o->retry_delay;
    pe->quota_per_day |= o->quota_per_day;
    pe->quota_per_minute |= o->quota_per_minute;
    pe->api_key_invalid |= o->api_key_invalid;
}

/* Which object speaks for the body, once it has all been read. */
static void read_json(const body_reader *reader, int has_top, provider_error *pe)
{
    const object_fields *top = &reader->obj[OBJ_TOP];

    if (!has_top)
        return;
    if (reader->error_kind == 1) {
        pe->has_error = 1;
        take_fields(&reader->obj[OBJ_ERROR], pe);
    } else if (reader->error_kind == 2) {
        /* {"error": "text", "code": ...} */
        pe->has_error = 1;
        set_message(pe, reader->error_text, reader->error_text_len);
        take_fields(top, pe);
    } else if (top->message_rank >= 2 ||
               (top->type[0] != '\0' && ends_with(top->type, strlen(top->type), "_error"))) {
        /* The inner error object on its own, or {"message": ...} / {"detail": ...}. */
        pe->has_error = 1;
        take_fields(top, pe);
        if (eq(pe->type, "error"))
            pe->type[0] = '\0';
    }
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

static void read_body(const char *body, size_t len, provider_error *pe)
{
    size_t start = 0;
    body_reader *reader;
    acn_json_walk walk;
    acn_status status;

    if (body == NULL || len == 0)
        return;
    while (start < len &&
           (body[start] == ' ' || body[start] == '\t' || body[start] == '\r' || body[start] == '\n'))
        start++;
    if (start == len || (body[start] != '{' && body[start] != '[') || len > ACN_CLASSIFY_MAX_JSON)
        return;
    reader = calloc(1, sizeof(*reader));
    if (reader == NULL)
        return;
    reader->chosen = -1;
    reader->obj[OBJ_TOP].retry_delay = -1;
    reader->obj[OBJ_ERROR].retry_delay = -1;
    acn_json_walk_init(&walk, 0);
    status = acn_json_walk_parse(&walk, body, len, &body_listener, reader);
    if (status == ACN_OK) {
        pe->json = 1;
        read_json(reader, walk.root_is_map || reader->chosen >= 0, pe);
    }
    acn_json_walk_free(&walk);
    free(reader);
}

/* ---- phrases ---- */

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
static size_t model_name(const provider_error *pe, char *out, size_t cap)
{
    size_t from = 0;

    while (from < pe->lower_len) {
        long at = find(pe->lower + from, pe->lower_len - from, "model");
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
        while (i < pe->lower_len && model_name_char(pe->message[i]) && i - start < MODEL_NAME_MAX)
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

static int about_model(const provider_error *pe)
{
    if (eq(pe->code, "model_not_found") || eq(pe->type, "model_not_found"))
        return 1;
    if (pe->lower_len >= 6 && memcmp(pe->lower, "model:", 6) == 0)
        return 1;
    return has(pe, "model") && HAS_ANY(pe, model_phrases);
}

static int about_context(const provider_error *pe)
{
    return eq(pe->code, "context_length_exceeded") || eq(pe->type, "context_length_exceeded") ||
           HAS_ANY(pe, context_phrases);
}

static int about_quota(const provider_error *pe)
{
    return eq(pe->code, "insufficient_quota") || eq(pe->type, "insufficient_quota") ||
           eq(pe->code, "billing_hard_limit_reached") || eq(pe->code, "billing_not_active") ||
           HAS_ANY(pe, quota_phrases);
}

static int about_auth(const provider_error *pe)
{
    return eq(pe->type, "authentication_error") || eq(pe->code, "invalid_api_key") ||
           eq(pe->status, "UNAUTHENTICATED") || pe->api_key_invalid || HAS_ANY(pe, auth_phrases);
}

/*
 * A wait the message states, for when no header or RetryInfo does: OpenAI's
 * "Please try again in 1m30.5s" (a Go duration: h, m, s, ms), Gemini's
 * "Please retry in 56.68s" and Azure's "Please retry after 20 seconds". -1 when
 * the message states none.
 */
static double go_duration(const char *s, size_t len)
{
    double total = 0;
    size_t i = 0;
    int parts = 0;

    while (i < len && parts < 4) {
        double value = 0, scale = 1;
        size_t start = i;
        int fraction = 0;
        while (i < len && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !fraction))) {
            if (s[i] == '.')
                fraction = 1;
            else if (fraction && scale > 1e-9)
                value += (s[i] - '0') * (scale /= 10);
            else if (!fraction && i - start < 9)
                value = value * 10 + (s[i] - '0');
            i++;
        }
        if (i == start)
            break;
        if (i + 1 < len && s[i] == 'm' && s[i + 1] == 's') {
            total += value / 1000.0;
            i += 2;
        } else if (i < len && (s[i] == 'h' || s[i] == 'm' || s[i] == 's')) {
            total += value * (s[i] == 'h' ? 3600.0 : s[i] == 'm' ? 60.0 : 1.0);
            i++;
        } else {
            break;
        }
        parts++;
    }
    return parts > 0 ? total : -1;
}

static double wait_in_words(const provider_error *pe)
{
    long at = find(pe->lower, pe->lower_len, "try again in ");
    size_t i, start;
    double seconds = 0;

    if (at >= 0) {
        i = (size_t)at + 13;
        return go_duration(pe->lower + i, pe->lower_len - i);
    }
    at = find(pe->lower, pe->lower_len, "retry in ");
    if (at >= 0) {
        i = (size_t)at + 9;
        return go_duration(pe->lower + i, pe->lower_len - i);
    }
    at = find(pe->lower, pe->lower_len, "retry after ");
    if (at < 0)
        return -1;
    i = start = (size_t)at + 12;
    while (i < pe->lower_len && i - start < 9 && pe->lower[i] >= '0' && pe->lower[i] <= '9')
        seconds = seconds * 10 + (pe->lower[i++] - '0');
    if (i == start || pe->lower_len - i < 7 || memcmp(pe->lower + i, " second", 7) != 0)
        return -1;
    return seconds;
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

static verdict too_large(const provider_error *pe)
{
    verdict v = make(ACN_FAILURE_REQUEST_TOO_LARGE);

    v.compact = about_context(pe) || has(pe, "token");
    return v;
}

/* A 429 whose request alone is over the per-minute budget: waiting will not help. */
static int request_over_budget(const provider_error *pe)
{
    return pe->lower_len >= 17 && memcmp(pe->lower, "request too large", 17) == 0;
}

static verdict rate_limit(const provider_error *pe)
{
    if (request_over_budget(pe))
        return too_large(pe);
    return make(ACN_FAILURE_RATE_LIMITED);
}

/* Gemini's RESOURCE_EXHAUSTED covers both a per-minute limit and a used-up quota. */
static verdict resource_exhausted(const provider_error *pe)
{
    if (pe->quota_per_day)
        return make(ACN_FAILURE_QUOTA_EXHAUSTED);
    if (has(pe, "billing") && pe->retry_delay < 0 && !pe->quota_per_minute)
        return make(ACN_FAILURE_QUOTA_EXHAUSTED);
    return make(ACN_FAILURE_RATE_LIMITED);
}

/* What the provider's own codes say, when they say something specific. */
static int by_code(const provider_error *pe, int status, verdict *out)
{
    const char *t = pe->type, *c = pe->code, *s = pe->status;

    if (eq(c, "insufficient_quota") || eq(t, "insufficient_quota") || eq(c, "billing_hard_limit_reached") ||
        eq(c, "billing_not_active"))
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
    else if (eq(s, "DEADLINE_EXCEEDED"))
        *out = make(ACN_FAILURE_TIMEOUT);
    else if (eq(c, "content_filter") || eq(c, "content_policy_violation"))
        *out = make(ACN_FAILURE_REFUSAL);
    else if (eq(t, "api_error") || eq(t, "server_error") || eq(c, "server_error") || eq(s, "INTERNAL"))
        *out = make(status == 503 || status == 529 || has(pe, "overloaded") ? ACN_FAILURE_OVERLOADED
                                                                            : ACN_FAILURE_SERVER_ERROR);
    else
        return 0;
    return 1;
}

/* What the message's words say, for errors whose codes are generic. */
static int by_phrase(const provider_error *pe, int status, verdict *out)
{
    if (about_auth(pe) || status == 401)
        *out = make(ACN_FAILURE_AUTHENTICATION);
    else if (about_quota(pe))
        *out = make(ACN_FAILURE_QUOTA_EXHAUSTED);
    else if (status == 429)
        return 0;
    else if (about_context(pe))
        *out = status == 413 ? too_large(pe) : make(ACN_FAILURE_CONTEXT_OVERFLOW);
    else if (about_model(pe))
        *out = make(ACN_FAILURE_INVALID_MODEL);
    else if (HAS_ANY(pe, location_phrases) || HAS_ANY(pe, disabled_phrases))
        *out = make(ACN_FAILURE_PERMISSION);
    else if (HAS_ANY(pe, filter_phrases))
        *out = make(ACN_FAILURE_REFUSAL);
    else
        return 0;
    return 1;
}

static verdict by_status(const provider_error *pe, int status, int empty_body)
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
        return make(has(pe, "overloaded") ? ACN_FAILURE_OVERLOADED : ACN_FAILURE_SERVER_ERROR);
    return make(ACN_FAILURE_BAD_REQUEST);
}

/* ---- transport ---- */

typedef struct curl_map {
    int code;
    acn_transport_error error;
    int retryable;
} curl_map;

/* CURLcode values (stable across libcurl versions; numbers, so older headers build). */
static const curl_map curl_codes[] = {
    {1, ACN_TRANSPORT_CONNECT, 0},    /* UNSUPPORTED_PROTOCOL */
    {2, ACN_TRANSPORT_CONNECT, 0},    /* FAILED_INIT */
    {3, ACN_TRANSPORT_CONNECT, 0},    /* URL_MALFORMAT */
    {4, ACN_TRANSPORT_CONNECT, 0},    /* NOT_BUILT_IN */
    {5, ACN_TRANSPORT_CONNECT, 1},    /* COULDNT_RESOLVE_PROXY */
    {6, ACN_TRANSPORT_CONNECT, 1},    /* COULDNT_RESOLVE_HOST */
    {7, ACN_TRANSPORT_CONNECT, 1},    /* COULDNT_CONNECT */
    {8, ACN_TRANSPORT_MALFORMED, 1},  /* WEIRD_SERVER_REPLY */
    {16, ACN_TRANSPORT_LOST, 1},      /* HTTP2 */
    {18, ACN_TRANSPORT_LOST, 1},      /* PARTIAL_FILE */
    {23, ACN_TRANSPORT_LOST, 1},      /* WRITE_ERROR */
    {25, ACN_TRANSPORT_LOST, 1},      /* UPLOAD_FAILED */
    {26, ACN_TRANSPORT_LOST, 1},      /* READ_ERROR */
    {27, ACN_TRANSPORT_LOST, 1},      /* OUT_OF_MEMORY */
    {28, ACN_TRANSPORT_TIMEOUT, 1},   /* OPERATION_TIMEDOUT */
    {35, ACN_TRANSPORT_CONNECT, 1},   /* SSL_CONNECT_ERROR */
    {42, ACN_TRANSPORT_CANCELLED, 0}, /* ABORTED_BY_CALLBACK */
    {43, ACN_TRANSPORT_CONNECT, 0},   /* BAD_FUNCTION_ARGUMENT */
    {45, ACN_TRANSPORT_CONNECT, 1},   /* INTERFACE_FAILED */
    {47, ACN_TRANSPORT_CONNECT, 0},   /* TOO_MANY_REDIRECTS */
    {48, ACN_TRANSPORT_CONNECT, 0},   /* UNKNOWN_OPTION */
    {52, ACN_TRANSPORT_LOST, 1},      /* GOT_NOTHING */
    {53, ACN_TRANSPORT_CONNECT, 0},   /* SSL_ENGINE_NOTFOUND */
    {54, ACN_TRANSPORT_CONNECT, 0},   /* SSL_ENGINE_SETFAILED */
    {55, ACN_TRANSPORT_LOST, 1},      /* SEND_ERROR */
    {56, ACN_TRANSPORT_LOST, 1},      /* RECV_ERROR */
    {58, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CERTPROBLEM */
    {59, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CIPHER */
    {60, ACN_TRANSPORT_CONNECT, 0},   /* PEER_FAILED_VERIFICATION */
    {61, ACN_TRANSPORT_MALFORMED, 1}, /* BAD_CONTENT_ENCODING */
    {63, ACN_TRANSPORT_TOO_LARGE, 0}, /* FILESIZE_EXCEEDED */
    {64, ACN_TRANSPORT_CONNECT, 0},   /* USE_SSL_FAILED */
    {65, ACN_TRANSPORT_LOST, 1},      /* SEND_FAIL_REWIND */
    {66, ACN_TRANSPORT_CONNECT, 0},   /* SSL_ENGINE_INITFAILED */
    {77, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CACERT_BADFILE */
    {80, ACN_TRANSPORT_LOST, 1},      /* SSL_SHUTDOWN_FAILED */
    {81, ACN_TRANSPORT_LOST, 1},      /* AGAIN */
    {82, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CRL_BADFILE */
    {83, ACN_TRANSPORT_CONNECT, 0},   /* SSL_ISSUER_ERROR */
    {89, ACN_TRANSPORT_CONNECT, 1},   /* NO_CONNECTION_AVAILABLE */
    {90, ACN_TRANSPORT_CONNECT, 0},   /* SSL_PINNEDPUBKEYNOTMATCH */
    {91, ACN_TRANSPORT_CONNECT, 0},   /* SSL_INVALIDCERTSTATUS */
    {92, ACN_TRANSPORT_LOST, 1},      /* HTTP2_STREAM */
    {95, ACN_TRANSPORT_LOST, 1},      /* HTTP3 */
    {96, ACN_TRANSPORT_CONNECT, 1},   /* QUIC_CONNECT_ERROR */
    {97, ACN_TRANSPORT_CONNECT, 1},   /* PROXY */
    {98, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CLIENTCERT */
    {99, ACN_TRANSPORT_LOST, 1},      /* UNRECOVERABLE_POLL */
};

static const curl_map *curl_lookup(int code)
{
    size_t i;

    for (i = 0; i < sizeof(curl_codes) / sizeof(curl_codes[0]); i++) {
        if (curl_codes[i].code == code)
            return &curl_codes[i];
    }
    return NULL;
}

acn_transport_error acn_transport_error_from_curl(int curl_code)
{
    const curl_map *map;

    if (curl_code == 0)
        return ACN_TRANSPORT_NONE;
    map = curl_lookup(curl_code);
    /* A code this table does not know ended the transfer somehow: the connection is gone. */
    return map != NULL ? map->error : ACN_TRANSPORT_LOST;
}

typedef struct transport_info {
    const char *name;
    acn_failure_kind kind;
    const char *what;
} transport_info;

static const transport_info transports[] = {
    [ACN_TRANSPORT_NONE] = {"none", ACN_FAILURE_NONE, ""},
    [ACN_TRANSPORT_CONNECT] = {"connect", ACN_FAILURE_CONNECTION_FAILED, "could not connect to the provider"},
    [ACN_TRANSPORT_TIMEOUT] = {"timeout", ACN_FAILURE_TIMEOUT, "the request timed out"},
    [ACN_TRANSPORT_STALLED] = {"stalled", ACN_FAILURE_STALLED,
                               "no data arrived from the provider within the stall timeout"},
    [ACN_TRANSPORT_LOST] = {"lost", ACN_FAILURE_CONNECTION_LOST, "the connection was lost mid-response"},
    [ACN_TRANSPORT_INCOMPLETE] = {"incomplete", ACN_FAILURE_CONNECTION_LOST,
                                  "the stream ended before its final event"},
    [ACN_TRANSPORT_MALFORMED] = {"malformed", ACN_FAILURE_MALFORMED_STREAM,
                                 "the provider sent bytes that are not its stream format"},
    [ACN_TRANSPORT_TOO_LARGE] = {"too_large", ACN_FAILURE_MALFORMED_STREAM,
                                 "an event or reply from the provider exceeded its size bound"},
    [ACN_TRANSPORT_CANCELLED] = {"cancelled", ACN_FAILURE_CANCELLED, "cancelled by the caller"},
};

#define TRANSPORT_COUNT ((int)(sizeof(transports) / sizeof(transports[0])))

const char *acn_transport_error_name(acn_transport_error error)
{
    if ((unsigned)error >= (unsigned)TRANSPORT_COUNT)
        return "unknown";
    return transports[error].name;
}

int acn_transport_error_parse(const char *name, size_t len, acn_transport_error *out)
{
    int i;

    for (i = 0; i < TRANSPORT_COUNT; i++) {
        if (strlen(transports[i].name) == len && memcmp(transports[i].name, name, len) == 0) {
            *out = (acn_transport_error)i;
            return 0;
        }
    }
    return -1;
}

static void classify_transport(const acn_classify_input *in, acn_transport_error error, acn_failure *out)
{
    const curl_map *map = in->curl_code != 0 ? curl_lookup(in->curl_code) : NULL;
    char text[ACN_FAILURE_DETAIL_MAX];

    if ((unsigned)error >= (unsigned)TRANSPORT_COUNT)
        error = ACN_TRANSPORT_LOST;
    acn_failure_init(out, transports[error].kind, in->status);
    if (error == ACN_TRANSPORT_TOO_LARGE || (map != NULL && map->error == error && !map->retryable)) {
        /* The same bytes or the same configuration would fail the same way again. */
        out->retryable = 0;
        out->action = ACN_ACTION_FAIL;
    }
    if (in->transport_detail != NULL && in->transport_detail[0] != '\0')
        snprintf(text, sizeof(text), "%s", in->transport_detail);
    else if (in->curl_code != 0)
        snprintf(text, sizeof(text), "%s (libcurl error %d: %s)", transports[error].what, in->curl_code,
                 curl_easy_strerror((CURLcode)in->curl_code));
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

static void write_invalid_model(const provider_error *pe, acn_failure *out)
{
    char name[MODEL_NAME_MAX + 1];
    char text[ACN_FAILURE_MESSAGE_MAX];

    if (model_name(pe, name, sizeof(name)) == 0)
        return;
    snprintf(text, sizeof(text),
             "The selected AI model (%s) isn't available. Please choose a different model.", name);
    acn_failure_set_message(out, text, strlen(text));
}

static void write_detail(const acn_classify_input *in, const provider_error *pe, int empty_body,
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
    provider_error *pe;
    verdict v;
    int status = in->status;
    int empty_body = in->body == NULL || blank(in->body, in->body_len);

    pe = calloc(1, sizeof(*pe));
    if (pe == NULL) {
        acn_failure_init(out, status >= 500 ? ACN_FAILURE_SERVER_ERROR : ACN_FAILURE_BAD_REQUEST, status);
        return;
    }
    pe->retry_delay = -1;
    read_body(in->body, in->body_len, pe);
    if (!pe->json && !empty_body && (in->mid_stream || in->body[0] != '<')) {
        /* Plain text: a mid-stream error's words, or a proxy's one-line answer. */
        size_t len = in->body_len < ACN_FAILURE_DETAIL_MAX - 1 ? in->body_len : ACN_FAILURE_DETAIL_MAX - 1;
        set_message(pe, in->body, len);
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
        else if (has(pe, "overloaded"))
            v = make(ACN_FAILURE_OVERLOADED);
        else if (has(pe, "rate limit") || has(pe, "too many requests"))
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
        out->retry_after = wait_in_words(pe);
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
