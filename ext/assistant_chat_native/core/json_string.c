/* json_string.c: JSON string escapes with unpaired surrogates as U+FFFD (json_string.h). */
#include "json_string.h"

#include "utf8.h"

#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The code unit of the \uXXXX escape at body[at], or -1 when there is none there. */
static long unit_at(const char *body, size_t len, size_t at)
{
    long unit = 0;
    size_t i;

    if (at + 6 > len || body[at] != '\\' || body[at + 1] != 'u')
        return -1;
    for (i = 2; i < 6; i++) {
        int digit = hex_digit(body[at + i]);

        if (digit < 0)
            return -1;
        unit = unit * 16 + digit;
    }
    return unit;
}

static int is_high(long unit)
{
    return unit >= 0xD800 && unit <= 0xDBFF;
}

static int is_low(long unit)
{
    return unit >= 0xDC00 && unit <= 0xDFFF;
}

int acn_json_string_has_surrogate(const char *body, size_t len)
{
    size_t i = 0;

    while (i < len) {
        if (body[i] != '\\') {
            i++;
            continue;
        }
        if (is_high(unit_at(body, len, i)) || is_low(unit_at(body, len, i)))
            return 1;
        i += 2; /* the backslash and the escaped character: "\\u" is no escape */
    }
    return 0;
}

static acn_status put_code_point(acn_buf *out, unsigned long cp)
{
    char bytes[4];

    return acn_buf_append(out, bytes, acn_utf8_encode(cp, bytes));
}

static char simple_escape(char c)
{
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return c; /* '"', '\\' and '/' stand for themselves */
    }
}

acn_status acn_json_string_decode(const char *body, size_t len, acn_buf *out)
{
    size_t i = 0;

    while (i < len) {
        size_t run = i;
        long unit;
        acn_status status;

        while (run < len && body[run] != '\\')
            run++;
        if (run > i && (status = acn_buf_append(out, body + i, run - i)) != ACN_OK)
            return status;
        if (run == len)
            break;
        i = run;
        unit = unit_at(body, len, i);
        if (unit < 0) {
            if (i + 1 >= len)
                break; /* a lexed body never ends on a lone backslash */
            status = acn_buf_push(out, simple_escape(body[i + 1]));
            i += 2;
        } else if (is_high(unit) && is_low(unit_at(body, len, i + 6))) {
            long low = unit_at(body, len, i + 6);

            status = put_code_point(out, 0x10000 + (((unsigned long)unit - 0xD800) << 10) +
                                             ((unsigned long)low - 0xDC00));
            i += 12;
        } else {
            /* an unpaired surrogate, high or low, is U+FFFD; the escape after it stands alone */
            status = put_code_point(out, is_high(unit) || is_low(unit) ? 0xFFFD : (unsigned long)unit);
            i += 6;
        }
        if (status != ACN_OK)
            return status;
    }
    return ACN_OK;
}

size_t acn_json_string_unescape_in_place(char *s, size_t len)
{
    const unsigned char *r = (const unsigned char *)s;
    const unsigned char *end = r + len;
    char *w = s;

    while (r < end) {
        unsigned char c = *r;
        long unit;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *w++ = (char)c;
            r++;
        } else if (c >= 0x80) {
            size_t n = acn_utf8_sequence(r, (size_t)(end - r));

            if (n == 0)
                return (size_t)-1;
            memmove(w, r, n);
            w += n;
            r += n;
        } else if (c == '\\' && end - r >= 2 && r[1] != 'u') {
            if (strchr("\"\\/bfnrt", r[1]) == NULL || r[1] == '\0')
                return (size_t)-1;
            *w++ = simple_escape((char)r[1]);
            r += 2;
        } else if (c == '\\') {
            size_t at = (size_t)((const char *)r - s);

            /* Only a whole escape of a character other than NUL, or a whole pair. */
            unit = unit_at(s, len, at);
            if (unit <= 0 || is_low(unit))
                return (size_t)-1;
            if (is_high(unit)) {
                long low = unit_at(s, len, at + 6);

                if (!is_low(low))
                    return (size_t)-1;
                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                r += 6;
            }
            w += acn_utf8_encode((unsigned long)unit, w);
            r += 6;
        } else {
            return (size_t)-1;
        }
    }
    return (size_t)(w - s);
}
