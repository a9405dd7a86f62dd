/* utf8.c: one UTF-8 sequence check for the whole core (utf8.h). */
#include "utf8.h"

size_t acn_utf8_sequence(const unsigned char *bytes, size_t len)
{
    unsigned char lead = bytes[0];
    unsigned char low = 0x80; /* the second byte's range, narrowed for some leads */
    unsigned char high = 0xBF;
    size_t n;
    size_t i;

    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        n = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
        n = 3;
    else if (lead >= 0xF0 && lead <= 0xF4)
        n = 4;
    else
        return 0;
    if (lead == 0xE0)
        low = 0xA0; /* overlong */
    else if (lead == 0xED)
        high = 0x9F; /* surrogates */
    else if (lead == 0xF0)
        low = 0x90; /* overlong */
    else if (lead == 0xF4)
        high = 0x8F; /* past U+10FFFF */
    if (len < n || bytes[1] < low || bytes[1] > high)
        return 0;
    for (i = 2; i < n; i++) {
        if (bytes[i] < 0x80 || bytes[i] > 0xBF)
            return 0;
    }
    return n;
}
