/*
 * failure.c: the taxonomy's names, each kind's defaults (action, retryability)
 * and user-facing copy, as failure_kinds.def lists them, and the cleaning every
 * text goes through before it lands in a failure's message or detail (secrets
 * redacted, valid UTF-8, no control characters, bounded). Owns nothing; writes only into the caller's arrays.
 */
#include "failure.h"
#include "utf8.h"

#include <string.h>

typedef struct kind_info {
    const char *name;
    acn_failure_action action;
    int retryable;
    const char *copy;
} kind_info;

/* Indexed by acn_failure_kind; the rows are failure_kinds.def's. */
static const kind_info kinds[ACN_FAILURE_KIND_COUNT] = {
    [ACN_FAILURE_NONE] = {"none", ACN_ACTION_FAIL, 0, ""},
#define ACN_FAILURE_KIND(NAME, name, ACTION, retryable, copy)                                                \
    [ACN_FAILURE_##NAME] = {#name, ACN_ACTION_##ACTION, retryable, copy},
#include "failure_kinds.def"
};

typedef struct copy_info {
    const char *name;
    const char *copy;
} copy_info;

/* Indexed by acn_failure_copy_id. */
static const copy_info copies[ACN_COPY_COUNT] = {
#define ACN_FAILURE_COPY(NAME, name, copy) [ACN_COPY_##NAME] = {#name, copy},
#include "failure_kinds.def"
};

static const char *const action_names[] = {"retry", "compact", "escalate", "fail"};

const char *acn_failure_kind_name(acn_failure_kind kind)
{
    if ((unsigned)kind >= ACN_FAILURE_KIND_COUNT)
        return "unknown";
    return kinds[kind].name;
}

int acn_failure_kind_parse(const char *name, size_t len, acn_failure_kind *out)
{
    int i;

    for (i = 0; i < ACN_FAILURE_KIND_COUNT; i++) {
        if (strlen(kinds[i].name) == len && memcmp(kinds[i].name, name, len) == 0) {
            *out = (acn_failure_kind)i;
            return 0;
        }
    }
    return -1;
}

const char *acn_failure_action_name(acn_failure_action action)
{
    if ((unsigned)action > ACN_ACTION_FAIL)
        return "unknown";
    return action_names[action];
}

const char *acn_failure_copy(acn_failure_kind kind)
{
    if ((unsigned)kind >= ACN_FAILURE_KIND_COUNT)
        return "";
    return kinds[kind].copy;
}

int acn_failure_kind_retryable(acn_failure_kind kind)
{
    if ((unsigned)kind >= ACN_FAILURE_KIND_COUNT)
        return 0;
    return kinds[kind].retryable;
}

acn_failure_action acn_failure_kind_action(acn_failure_kind kind)
{
    if ((unsigned)kind >= ACN_FAILURE_KIND_COUNT)
        return ACN_ACTION_FAIL;
    return kinds[kind].action;
}

const char *acn_failure_case_copy(acn_failure_copy_id id)
{
    if ((unsigned)id >= ACN_COPY_COUNT)
        return "";
    return copies[id].copy;
}

const char *acn_failure_case_copy_name(acn_failure_copy_id id)
{
    if ((unsigned)id >= ACN_COPY_COUNT)
        return "unknown";
    return copies[id].name;
}

size_t acn_failure_case_copy_fill(char *dst, size_t cap, acn_failure_copy_id id, const char *value)
{
    char text[ACN_FAILURE_DETAIL_MAX];
    const char *copy = acn_failure_case_copy(id);
    const char *slot = strstr(copy, "%s");
    size_t head, value_len, tail, len;

    if (slot == NULL || value == NULL)
        return acn_failure_clean_text(dst, cap, copy, strlen(copy));
    head = (size_t)(slot - copy);
    value_len = strlen(value);
    tail = strlen(slot + 2);
    if (head + tail >= sizeof(text))
        return acn_failure_clean_text(dst, cap, copy, strlen(copy));
    if (value_len > sizeof(text) - 1 - head - tail)
        value_len = sizeof(text) - 1 - head - tail;
    memcpy(text, copy, head);
    memcpy(text + head, value, value_len);
    memcpy(text + head + value_len, slot + 2, tail);
    len = head + value_len + tail;
    return acn_failure_clean_text(dst, cap, text, len);
}

void acn_failure_init(acn_failure *failure, acn_failure_kind kind, int status)
{
    const char *copy = acn_failure_copy(kind);

    memset(failure, 0, sizeof(*failure));
    failure->kind = (unsigned)kind < ACN_FAILURE_KIND_COUNT ? kind : ACN_FAILURE_NONE;
    failure->action = acn_failure_kind_action(failure->kind);
    failure->retryable = acn_failure_kind_retryable(failure->kind);
    failure->retry_after = -1;
    failure->status = status;
    acn_failure_clean_text(failure->message, sizeof(failure->message), copy, strlen(copy));
}

/* ---- cleaning ---- */

typedef struct writer {
    char *dst;
    size_t cap; /* bytes available, including the terminating NUL */
    size_t len;
    int space_due;
    int full;
} writer;

/* Appends one whole character (or token) or nothing: the text is cut at a boundary. */
static void emit(writer *w, const char *bytes, size_t n)
{
    size_t space = (w->space_due && w->len > 0) ? 1 : 0;

    if (w->full || n == 0)
        return;
    if (w->len + space + n + 1 > w->cap) {
        w->full = 1;
        return;
    }
    if (space)
        w->dst[w->len++] = ' ';
    w->space_due = 0;
    memcpy(w->dst + w->len, bytes, n);
    w->len += n;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_token_char(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '*' || c == '~' || c == '+' || c == '/' ||
           c == '%' || c == '=';
}

static size_t token_len(const unsigned char *s, size_t len)
{
    size_t n = 0;

    while (n < len && is_token_char(s[n]))
        n++;
    /* A key never ends a sentence with its full stop. */
    while (n > 0 && s[n - 1] == '.')
        n--;
    return n;
}

static int starts_with_ci(const unsigned char *s, size_t len, const char *prefix)
{
    size_t i, n = strlen(prefix);

    if (n > len)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)prefix[i])
            return 0;
    }
    return 1;
}

/*
 * When a secret starts at s[0], returns how many bytes to consume and sets
 * `keep` to how many of them stay visible (a "Bearer " or "key=" label); 0 when
 * nothing secret starts here. `word_start` says s[0] does not continue a word.
 */
static size_t secret_at(const unsigned char *s, size_t len, int word_start, size_t *keep)
{
    static const char *const labels[] = {"api_key",        "api-key",      "apikey",
                                         "x-goog-api-key", "access_token", "authorization"};
    size_t i, t;

    *keep = 0;
    if (word_start && len >= 3 && s[0] == 's' && s[1] == 'k' && s[2] == '-') {
        t = token_len(s + 3, len - 3);
        if (t >= 6)
            return 3 + t;
    }
    if (word_start && len >= 4 && memcmp(s, "AIza", 4) == 0) {
        t = token_len(s + 4, len - 4);
        if (t >= 16)
            return 4 + t;
    }
    if (word_start && starts_with_ci(s, len, "bearer ")) {
        t = token_len(s + 7, len - 7);
        if (t >= 6) {
            *keep = 7;
            return 7 + t;
        }
    }
    if (starts_with_ci(s, len, "key=")) {
        t = token_len(s + 4, len - 4);
        if (t >= 1) {
            *keep = 4;
            return 4 + t;
        }
    }
    if (!word_start)
        return 0;
    for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        size_t n = strlen(labels[i]), sep;
        if (!starts_with_ci(s, len, labels[i]))
            continue;
        sep = n;
        while (sep < len && sep < n + 4 &&
               (s[sep] == ':' || s[sep] == '=' || s[sep] == ' ' || s[sep] == '"' || s[sep] == '\''))
            sep++;
        if (sep == n)
            return 0;
        if (sep < len && starts_with_ci(s + sep, len - sep, "bearer "))
            sep += 7;
        t = token_len(s + sep, len - sep);
        if (t >= 6) {
            *keep = sep;
            return sep + t;
        }
        return 0;
    }
    return 0;
}

size_t acn_failure_clean_text(char *dst, size_t cap, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    writer w;
    size_t i = 0;

    if (cap == 0)
        return 0;
    w.dst = dst;
    w.cap = cap;
    w.len = 0;
    w.space_due = 0;
    w.full = 0;
    while (text != NULL && i < len && !w.full) {
        unsigned char c = s[i];
        size_t keep, secret, n;
        int word_start = i == 0 || !is_alnum(s[i - 1]);

        if (c < 0x20 || c == 0x7F || c == ' ') {
            w.space_due = 1;
            i++;
            continue;
        }
        secret = secret_at(s + i, len - i, word_start, &keep);
        if (secret > 0) {
            emit(&w, (const char *)s + i, keep);
            emit(&w, "[redacted]", 10);
            i += secret;
            continue;
        }
        n = acn_utf8_sequence(s + i, len - i);
        if (n == 0) {
            emit(&w, "\xEF\xBF\xBD", 3);
            i++;
            continue;
        }
        emit(&w, (const char *)s + i, n);
        i += n;
    }
    dst[w.len] = '\0';
    return w.len;
}

size_t acn_failure_set_message(acn_failure *failure, const char *text, size_t len)
{
    return acn_failure_clean_text(failure->message, sizeof(failure->message), text, len);
}

size_t acn_failure_set_detail(acn_failure *failure, const char *text, size_t len)
{
    return acn_failure_clean_text(failure->detail, sizeof(failure->detail), text, len);
}
