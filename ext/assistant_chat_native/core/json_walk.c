/* json_walk.c: yajl's callback parser with a key path, skipping and capture. */
#include "json_walk.h"

#include "json_string.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NO_KEY ((size_t)-1)

void acn_json_walk_init(acn_json_walk *walk, size_t max_capture)
{
    memset(walk, 0, sizeof(*walk));
    walk->parser = NULL;
    walk->gen = NULL;
    walk->bound = NULL;
    acn_buf_init(&walk->capture, max_capture);
    acn_buf_init(&walk->text, 0);
}

static void fail(acn_json_walk *walk, acn_status status, const char *message)
{
    if (walk->stop == ACN_OK)
        walk->stop = status;
    if (walk->error[0] == '\0')
        snprintf(walk->error, sizeof(walk->error), "%s", message);
}

/* yajl_gen writes the captured value here, so its size is bounded like every buffer. */
static void capture_print(void *ctx, const char *str, size_t len)
{
    acn_json_walk *walk = ctx;
    acn_status status = acn_buf_append(&walk->capture, str, len);

    if (status == ACN_ERR_LIMIT)
        fail(walk, status, "captured JSON value over the size limit");
    else if (status != ACN_OK)
        fail(walk, status, "out of memory capturing a JSON value");
}

/* Checks a yajl_gen call; returns the yajl callback's verdict (1 goes on). */
static int gen_ok(acn_json_walk *walk, yajl_gen_status status)
{
    if (walk->stop != ACN_OK)
        return 0;
    if (status == yajl_gen_status_ok)
        return 1;
    if (status == yajl_max_depth_exceeded)
        fail(walk, ACN_ERR_LIMIT, "captured JSON value nested too deeply");
    else
        fail(walk, ACN_ERR_MALFORMED, "captured JSON value could not be written");
    return 0;
}

/* Bookkeeping before any value outside a capture or a skip: array positions, and
 * the one-root-value rule. Returns 0 to stop the parse. */
static int begin_value(acn_json_walk *walk)
{
    if (walk->depth == 0) {
        if (++walk->values > 1) {
            fail(walk, ACN_ERR_MALFORMED, "more than one JSON value");
            return 0;
        }
        return 1;
    }
    if (walk->depth <= ACN_JSON_WALK_MAX_DEPTH) {
        acn_json_frame *frame = &walk->frames[walk->depth - 1];

        if (frame->is_array)
            frame->index++;
    }
    return 1;
}

static int scalar(acn_json_walk *walk, acn_json_kind kind, const char *text, size_t len)
{
    if (walk->skip_depth > 0)
        return 1;
    if (walk->capture_depth > 0) {
        yajl_gen_status status = yajl_gen_status_ok;

        switch (kind) {
        case ACN_JSON_STRING: status = yajl_gen_string(walk->gen, (const unsigned char *)text, len); break;
        case ACN_JSON_NUMBER: status = yajl_gen_number(walk->gen, text, len); break;
        case ACN_JSON_TRUE: status = yajl_gen_bool(walk->gen, 1); break;
        case ACN_JSON_FALSE: status = yajl_gen_bool(walk->gen, 0); break;
        case ACN_JSON_NULL: status = yajl_gen_null(walk->gen); break;
        }
        return gen_ok(walk, status);
    }
    if (!begin_value(walk))
        return 0;
    if (walk->listener->on_scalar != NULL &&
        walk->listener->on_scalar(walk->ctx, walk, kind, text, len) != 0) {
        fail(walk, ACN_ERR_ABORTED, "stopped by the listener");
        return 0;
    }
    return 1;
}

static int open_container(acn_json_walk *walk, int is_array)
{
    int action = ACN_JSON_DESCEND;

    /* The nesting of the container opening now: the walked levels, plus those inside a
     * skipped or captured value (both count from that value itself). */
    if (walk->depth + walk->skip_depth + walk->capture_depth + 1 > ACN_JSON_MAX_DEPTH) {
        char message[64];

        snprintf(message, sizeof(message), "JSON nested deeper than %d levels", ACN_JSON_MAX_DEPTH);
        fail(walk, ACN_ERR_MALFORMED, message);
        return 0;
    }
    if (walk->skip_depth > 0) {
        walk->skip_depth++;
        return 1;
    }
    if (walk->capture_depth > 0) {
        walk->capture_depth++;
        return gen_ok(walk, is_array ? yajl_gen_array_open(walk->gen) : yajl_gen_map_open(walk->gen));
    }
    if (!begin_value(walk))
        return 0;
    if (walk->depth == 0)
        walk->root_is_map = !is_array;
    if (walk->listener->on_open != NULL)
        action = walk->listener->on_open(walk->ctx, walk, is_array);
    if (action < 0) {
        fail(walk, ACN_ERR_ABORTED, "stopped by the listener");
        return 0;
    }
    if (action == ACN_JSON_SKIP) {
        walk->skip_depth = 1;
        return 1;
    }
    if (action == ACN_JSON_CAPTURE) {
        yajl_gen_reset(walk->gen, NULL);
        acn_buf_clear(&walk->capture);
        walk->capture_depth = 1;
        return gen_ok(walk, is_array ? yajl_gen_array_open(walk->gen) : yajl_gen_map_open(walk->gen));
    }
    if (walk->depth < ACN_JSON_WALK_MAX_DEPTH) {
        acn_json_frame *frame = &walk->frames[walk->depth];

        frame->key_len = NO_KEY;
        frame->index = -1;
        frame->is_array = is_array;
    }
    walk->depth++;
    return 1;
}

static int close_container(acn_json_walk *walk, int is_array)
{
    if (walk->skip_depth > 0) {
        walk->skip_depth--;
        return 1;
    }
    if (walk->capture_depth > 0) {
        if (!gen_ok(walk, is_array ? yajl_gen_array_close(walk->gen) : yajl_gen_map_close(walk->gen)))
            return 0;
        if (--walk->capture_depth > 0)
            return 1;
        if (walk->listener->on_capture != NULL &&
            walk->listener->on_capture(walk->ctx, walk, walk->capture.ptr != NULL ? walk->capture.ptr : "",
                                       walk->capture.len) != 0) {
            fail(walk, ACN_ERR_ABORTED, "stopped by the listener");
            return 0;
        }
        return 1;
    }
    walk->depth--;
    if (walk->listener->on_close != NULL && walk->listener->on_close(walk->ctx, walk, is_array) != 0) {
        fail(walk, ACN_ERR_ABORTED, "stopped by the listener");
        return 0;
    }
    return 1;
}

/*
 * Notes where the root value ended once a callback completed it. The parser is
 * set to take several values (so one parser serves every document), which also
 * lets it end a parse on an unfinished token after the value: a partial string
 * that it would carry into the next document. The parse checks what follows
 * this offset instead. Returns ok.
 */
static int note_end(acn_json_walk *walk, int ok)
{
    if (ok && walk->depth == 0 && walk->capture_depth == 0 && walk->skip_depth == 0)
        walk->root_end = walk->finishing ? walk->input_len : yajl_get_bytes_consumed(walk->parser);
    return ok;
}

static int on_null(void *ctx)
{
    return note_end(ctx, scalar(ctx, ACN_JSON_NULL, NULL, 0));
}

static int on_boolean(void *ctx, int value)
{
    return note_end(ctx, scalar(ctx, value ? ACN_JSON_TRUE : ACN_JSON_FALSE, NULL, 0));
}

static int on_number(void *ctx, const char *text, size_t len)
{
    return note_end(ctx, scalar(ctx, ACN_JSON_NUMBER, text, len));
}

/*
 * The body (between the quotes) of the string token yajl just lexed. The parser
 * has consumed the token through its closing quote; inside a string every quote
 * is escaped, by an odd run of backslashes, so the opening quote is the nearest
 * one before it with an even run (none) in front.
 */
static int lexed_body(const acn_json_walk *walk, const char **body, size_t *len)
{
    size_t end = yajl_get_bytes_consumed(walk->parser);
    size_t at;

    if (end == 0 || end > walk->input_len || walk->input[end - 1] != '"')
        return 0;
    for (at = end - 1; at-- > 0;) {
        size_t slashes = 0;

        if (walk->input[at] != '"')
            continue;
        while (slashes < at && walk->input[at - 1 - slashes] == '\\')
            slashes++;
        if (slashes % 2 == 0) {
            *body = walk->input + at + 1;
            *len = end - 1 - (at + 1);
            return 1;
        }
    }
    return 0;
}

/*
 * yajl hands over an escaped string decoded in its own buffer, and decodes
 * surrogate escapes wrongly (json_string.h). Such a string is decoded again from
 * its body into walk->text. Unescaped strings point into the input and need nothing.
 */
static int redecode(acn_json_walk *walk, const unsigned char **text, size_t *len)
{
    const char *body;
    size_t body_len;
    acn_status status;
    uintptr_t at = (uintptr_t)*text;

    if (at >= (uintptr_t)walk->input && at <= (uintptr_t)walk->input + walk->input_len)
        return 1; /* no escapes: yajl passed the input's own bytes */
    if (!lexed_body(walk, &body, &body_len) || !acn_json_string_has_surrogate(body, body_len))
        return 1;
    acn_buf_clear(&walk->text);
    if ((status = acn_json_string_decode(body, body_len, &walk->text)) != ACN_OK) {
        fail(walk, status, "could not decode a JSON string");
        return 0;
    }
    *text = (const unsigned char *)(walk->text.len > 0 ? walk->text.ptr : "");
    *len = walk->text.len;
    return 1;
}

static int on_string(void *ctx, const unsigned char *text, size_t len)
{
    const acn_json_walk *walk = ctx;

    if (walk->skip_depth == 0 && !redecode(ctx, &text, &len))
        return 0;
    return note_end(ctx, scalar(ctx, ACN_JSON_STRING, (const char *)text, len));
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, 0);
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    acn_json_walk *walk = ctx;

    if (walk->skip_depth > 0)
        return 1;
    if (!redecode(walk, &key, &len))
        return 0;
    if (walk->capture_depth > 0)
        return gen_ok(walk, yajl_gen_string(walk->gen, key, len));
    if (walk->depth > 0 && walk->depth <= ACN_JSON_WALK_MAX_DEPTH) {
        acn_json_frame *frame = &walk->frames[walk->depth - 1];

        if (len < ACN_JSON_WALK_KEY_MAX) {
            memcpy(frame->key, key, len);
            frame->key_len = len;
        } else {
            frame->key_len = NO_KEY;
        }
    }
    return 1;
}

static int on_end_map(void *ctx)
{
    return note_end(ctx, close_container(ctx, 0));
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, 1);
}

static int on_end_array(void *ctx)
{
    return note_end(ctx, close_container(ctx, 1));
}

static const yajl_callbacks callbacks = {on_null,    on_boolean,     NULL,         NULL,
                                         on_number,  on_string,      on_start_map, on_map_key,
                                         on_end_map, on_start_array, on_end_array};

static void release(acn_json_walk *walk)
{
    /* Freeing never calls back into the context, so this is safe after a move. */
    if (walk->parser != NULL)
        yajl_free(walk->parser);
    if (walk->gen != NULL)
        yajl_gen_free(walk->gen);
    walk->parser = NULL;
    walk->gen = NULL;
    walk->bound = NULL;
}

/* The parser and generator hold `walk` as their context, so they are (re)built
 * lazily for the address the walk has now. */
static acn_status prepare(acn_json_walk *walk)
{
    if (walk->bound != walk)
        release(walk); /* built for another address (the walk was moved): rebuild */
    if (walk->gen == NULL) {
        walk->gen = yajl_gen_alloc(NULL);
        if (walk->gen == NULL)
            return ACN_ERR_NOMEM;
        yajl_gen_config(walk->gen, yajl_gen_print_callback, capture_print, walk);
    }
    if (walk->parser == NULL) {
        walk->parser = yajl_alloc(&callbacks, NULL, walk);
        if (walk->parser == NULL)
            return ACN_ERR_NOMEM;
        yajl_config(walk->parser, yajl_allow_multiple_values, 1);
        /* Comments are not JSON; a comment can also hide brackets from a reader that
         * skips strings, so they are refused explicitly rather than by default. */
        yajl_config(walk->parser, yajl_allow_comments, 0);
    }
    walk->bound = walk;
    return ACN_OK;
}

/* True when s holds only JSON whitespace. */
static int blank(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    }
    return 1;
}

/* yajl also skips form feeds and vertical tabs as whitespace, which RFC 8259 does
 * not: outside a string either is an error, and inside one a raw control byte is
 * one too, so any in the text makes it no JSON. */
static int has_yajl_only_whitespace(const char *s, size_t len)
{
    return memchr(s, '\f', len) != NULL || memchr(s, '\v', len) != NULL;
}

acn_status acn_json_walk_parse(acn_json_walk *walk, const char *json, size_t len,
                               const acn_json_listener *listener, void *ctx)
{
    yajl_status status;
    acn_status prepared = prepare(walk);

    if (prepared != ACN_OK) {
        snprintf(walk->error, sizeof(walk->error), "out of memory starting the JSON parser");
        return prepared;
    }
    walk->listener = listener;
    walk->ctx = ctx;
    walk->depth = 0;
    walk->values = 0;
    walk->root_is_map = 0;
    walk->capture_depth = 0;
    walk->skip_depth = 0;
    walk->stop = ACN_OK;
    walk->error[0] = '\0';
    walk->input = json;
    walk->input_len = len;
    walk->text.max = len; /* a decoded string is never longer than its body */
    walk->root_end = 0;
    walk->finishing = 0;

    if (len > 0 && has_yajl_only_whitespace(json, len)) {
        fail(walk, ACN_ERR_MALFORMED, "a form feed or vertical tab, which JSON does not allow");
        return walk->stop;
    }
    status = yajl_parse(walk->parser, (const unsigned char *)json, len);
    if (status == yajl_status_ok) {
        walk->finishing = 1;
        status = yajl_complete_parse(walk->parser);
    }
    if (status == yajl_status_ok && walk->values == 1 && blank(json + walk->root_end, len - walk->root_end))
        return ACN_OK;

    if (status == yajl_status_ok && walk->values == 1) {
        fail(walk, ACN_ERR_MALFORMED, "text after the JSON value");
        status = yajl_status_error; /* the parser may hold part of that text: rebuild it */
    } else if (status == yajl_status_ok) {
        fail(walk, ACN_ERR_MALFORMED, "no JSON value");
    } else if (walk->stop == ACN_OK) {
        unsigned char *message = yajl_get_error(walk->parser, 0, (const unsigned char *)json, len);

        fail(walk, ACN_ERR_MALFORMED, message != NULL ? (const char *)message : "invalid JSON");
        if (message != NULL)
            yajl_free_error(walk->parser, message);
    }
    /* A yajl parser that stopped on an error stays stopped: build a new one next time. */
    if (status != yajl_status_ok) {
        yajl_free(walk->parser);
        walk->parser = NULL;
    }
    return walk->stop;
}

const char *acn_json_walk_error(const acn_json_walk *walk)
{
    return walk->error;
}

void acn_json_walk_free(acn_json_walk *walk)
{
    release(walk);
    acn_buf_free(&walk->capture);
    acn_buf_free(&walk->text);
}

int acn_json_walk_at(const acn_json_walk *walk, const char *path)
{
    const char *p = path;
    size_t level;

    if (walk->depth > ACN_JSON_WALK_MAX_DEPTH)
        return 0;
    for (level = 0; level < walk->depth; level++) {
        const acn_json_frame *frame = &walk->frames[level];

        if (frame->is_array) {
            if (p[0] != '[' || p[1] != ']')
                return 0;
            p += 2;
        } else {
            const char *end;

            if (level > 0) {
                if (*p != '.')
                    return 0;
                p++;
            }
            end = p;
            while (*end != '\0' && *end != '.' && *end != '[')
                end++;
            if (frame->key_len != (size_t)(end - p) || memcmp(p, frame->key, frame->key_len) != 0)
                return 0;
            p = end;
        }
    }
    return *p == '\0';
}

long acn_json_walk_index(const acn_json_walk *walk, size_t level)
{
    if (level >= walk->depth || level >= ACN_JSON_WALK_MAX_DEPTH || !walk->frames[level].is_array)
        return -1;
    return walk->frames[level].index;
}

size_t acn_json_walk_depth(const acn_json_walk *walk)
{
    return walk->depth;
}

int acn_json_integer(const char *text, size_t len, long long *out)
{
    size_t i = 0;
    int negative = 0;
    long long value = 0;

    if (len > 0 && text[0] == '-') {
        negative = 1;
        i = 1;
    }
    if (i == len)
        return -1;
    for (; i < len; i++) {
        int digit;

        if (text[i] < '0' || text[i] > '9')
            return -1;
        digit = text[i] - '0';
        if (value > (LLONG_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *out = negative ? -value : value;
    return 0;
}
