/*
 * error_body.c: reads a provider's error body (error_body.h) in one pass of the
 * JSON walker, and keeps its message lowercased for the phrase tables.
 */
#include "error_body.h"

#include "json_walk.h"

#include <stdlib.h>
#include <string.h>

/* Entries of a detail list, and objects of a root array, looked at. */
#define MAX_DETAILS 16

/* ---- small string helpers ---- */

static int eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static char lower_char(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

long acn_lower_find(const char *hay, size_t len, const char *needle)
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

int acn_error_body_has(const acn_error_body *pe, const char *needle)
{
    return acn_lower_find(pe->lower, pe->lower_len, needle) >= 0;
}

int acn_error_body_has_any(const acn_error_body *pe, const char *const *needles, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        if (acn_error_body_has(pe, needles[i]))
            return 1;
    }
    return 0;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);

    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

void acn_error_body_set_message(acn_error_body *pe, const char *text, size_t len)
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
    char type[ACN_ERROR_FIELD_MAX];
    char code[ACN_ERROR_FIELD_MAX];   /* when a string */
    char status[ACN_ERROR_FIELD_MAX]; /* when a string */
    long long code_number;            /* when an integer */
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
            keep(is_code ? o->code : o->status, ACN_ERROR_FIELD_MAX, text, len);
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
        char id[ACN_ERROR_FIELD_MAX * 2];

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
static void take_fields(const object_fields *o, acn_error_body *pe)
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
        acn_error_body_set_message(pe, o->message, o->message_len);
    if (o->retry_delay >= 0 && pe->retry_delay < 0)
        pe->retry_delay = o->retry_delay;
    pe->quota_per_day |= o->quota_per_day;
    pe->quota_per_minute |= o->quota_per_minute;
    pe->api_key_invalid |= o->api_key_invalid;
}

/* Which object speaks for the body, once it has all been read. */
static void read_json(const body_reader *reader, int has_top, acn_error_body *pe)
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
        acn_error_body_set_message(pe, reader->error_text, reader->error_text_len);
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

void acn_error_body_read(acn_error_body *pe, const char *body, size_t len)
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

void acn_error_body_init(acn_error_body *pe)
{
    memset(pe, 0, sizeof(*pe));
    pe->retry_delay = -1;
}
