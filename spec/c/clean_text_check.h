/*
 * clean_text_check.h: what a failure's message and detail must be after cleaning,
 * checked independently of the cleaner: UTF-8 sequences of the right shape, and no
 * control characters. Shared by test_classify.c and fuzz_classify.c.
 */
#ifndef CLEAN_TEXT_CHECK_H
#define CLEAN_TEXT_CHECK_H

#include <stddef.h>

static int clean_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t n, i;
        if (*p < 0x80) {
            if (*p < 0x20 || *p == 0x7F)
                return 0; /* no control characters either */
            p++;
            continue;
        }
        if (*p >= 0xC2 && *p <= 0xDF)
            n = 2;
        else if (*p >= 0xE0 && *p <= 0xEF)
            n = 3;
        else if (*p >= 0xF0 && *p <= 0xF4)
            n = 4;
        else
            return 0;
        for (i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        }
        p += n;
    }
    return 1;
}

#endif
