/*
 * json_walk.h: a small layer over yajl's callback (SAX) parser that knows where it
 * is. It tracks the key path of every value (maps and arrays, to a bounded depth)
 * and reports scalars with that path; a listener may ask, when a map or array
 * opens, to skip it or to receive it whole as compact JSON text (yajl_gen).
 *
 * Owns: one yajl parser and one yajl generator, reused for every document (the
 * parser is rebuilt only after an error), and the buffer a captured value is
 * written to, bounded by `max_capture`; the buffer a string with surrogate escapes
 * is decoded into (yajl decodes those wrongly; json_string.h), bounded by the input.
 * Borrows: the JSON bytes and the listener for the duration of one parse. Strings
 * handed to the listener are valid only during its call.
 * Limits: paths deeper than ACN_JSON_WALK_MAX_DEPTH never match (the values are
 * still parsed and validated); keys longer than ACN_JSON_WALK_KEY_MAX never match.
 * A document nested deeper than ACN_JSON_MAX_DEPTH (acn.h), counting skipped and
 * captured values, is malformed. Comments are refused (strict JSON only). Nothing
 * recurses: yajl's parser keeps its own bounded stack, and so does the walk.
 * One parse takes exactly one JSON value; anything but whitespace after it is malformed.
 */
#ifndef ACN_JSON_WALK_H
#define ACN_JSON_WALK_H

#include "acn.h"

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#define ACN_JSON_WALK_MAX_DEPTH 16
#define ACN_JSON_WALK_KEY_MAX   40

typedef enum acn_json_kind {
    ACN_JSON_STRING = 0, /* text is the decoded UTF-8 string */
    ACN_JSON_NUMBER,     /* text is the number as written */
    ACN_JSON_TRUE,
    ACN_JSON_FALSE,
    ACN_JSON_NULL
} acn_json_kind;

/* What a listener's on_open returns. Negative values stop the parse (ACN_ERR_ABORTED). */
enum {
    ACN_JSON_DESCEND = 0, /* walk into the container, reporting its values */
    ACN_JSON_CAPTURE = 1, /* hand the container to on_capture as JSON text when it closes */
    ACN_JSON_SKIP = 2     /* parse and validate it, report nothing */
};

typedef struct acn_json_walk acn_json_walk;

/* Every callback may be NULL. Return 0 to go on; on_scalar, on_close and on_capture
 * return non-zero to stop the parse. During on_scalar the path is the value's own
 * (acn_json_walk_at); during on_open, on_close and on_capture it is the container's. */
typedef struct acn_json_listener {
    int (*on_scalar)(void *ctx, const acn_json_walk *walk, acn_json_kind kind, const char *text, size_t len);
    int (*on_open)(void *ctx, const acn_json_walk *walk, int is_array);
    int (*on_close)(void *ctx, const acn_json_walk *walk, int is_array);
    int (*on_capture)(void *ctx, const acn_json_walk *walk, const char *json, size_t len);
} acn_json_listener;

typedef struct acn_json_frame {
    char key[ACN_JSON_WALK_KEY_MAX]; /* the current key when the container is a map */
    size_t key_len;                  /* (size_t)-1 when the key was too long to keep */
    long index;                      /* the current element when it is an array */
    int is_array;
} acn_json_frame;

struct acn_json_walk {
    yajl_handle parser;
    yajl_gen gen;
    const acn_json_walk *bound; /* the address parser and gen were built for */
    const acn_json_listener *listener;
    void *ctx;
    size_t depth; /* open containers, may exceed ACN_JSON_WALK_MAX_DEPTH */
    acn_json_frame frames[ACN_JSON_WALK_MAX_DEPTH];
    int values;           /* root values begun in this parse */
    int root_is_map;      /* the root value is a JSON object */
    size_t capture_depth; /* nesting inside a captured value; 0 when not capturing */
    size_t skip_depth;    /* nesting inside a skipped value; 0 when not skipping */
    acn_buf capture;      /* the captured value's JSON text */
    acn_buf text;         /* a string decoded again (json_string.h), bounded by the input */
    const char *input;    /* the bytes given to this parse (borrowed) */
    size_t input_len;     /* bytes given to this parse */
    size_t root_end;      /* offset just past the root value, once it ended */
    int finishing;        /* inside yajl_complete_parse, past the input's end */
    acn_status stop;      /* why a callback stopped the parse */
    char error[128];
};

/* Nothing is allocated until the first parse. */
void acn_json_walk_init(acn_json_walk *walk, size_t max_capture);
/* Parses one complete JSON value. ACN_OK; ACN_ERR_MALFORMED (acn_json_walk_error
 * says why); ACN_ERR_LIMIT (a capture over its bound); ACN_ERR_NOMEM; ACN_ERR_ABORTED
 * (a listener stopped it). The walk can parse again after any of them. */
acn_status acn_json_walk_parse(acn_json_walk *walk, const char *json, size_t len,
                               const acn_json_listener *listener, void *ctx);
const char *acn_json_walk_error(const acn_json_walk *walk);
void acn_json_walk_free(acn_json_walk *walk);

/*
 * Whether the current path is `path`: keys joined by '.', "[]" for any array
 * element, "" for the root. "delta.text" is the value of key "text" in the map
 * under "delta"; "candidates[].content.parts[].text" goes through two arrays.
 */
int acn_json_walk_at(const acn_json_walk *walk, const char *path);
/* The element index of the array at `level` of the path (0 = root), -1 when that
 * level is not an array. */
long acn_json_walk_index(const acn_json_walk *walk, size_t level);
size_t acn_json_walk_depth(const acn_json_walk *walk);

/* Parses a JSON integer as written (optional '-', digits; a fraction or exponent
 * is refused). Returns 0 and sets *out, or -1 when it is not one or overflows. */
int acn_json_integer(const char *text, size_t len, long long *out);

#endif
