/* utf8.c: one UTF-8 sequence check for the whole core (utf8.h). */
#include "utf8.h"

/* How long a sequence this lead byte starts: 2 to 4, or 0 when no multi-byte
 * character starts with it (ASCII, a continuation byte, C0, C1, F5 to FF). */
static size_t lead_length(unsigned char lead)
{
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

size_t acn_utf8_sequence(const unsigned char *bytes, size_t len)
{
    unsigned char lead = bytes[0];
    unsigned char low = 0x80; /* the second byte's range, narrowed for some leads */
    unsigned char high = 0xBF;
    size_t n = lead_length(lead);
    size_t i;

    if (lead < 0x80)
        return 1;
    if (n == 0)
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

size_t acn_utf8_complete_prefix(const char *bytes, size_t len)
{
    size_t back;

    /* Look at most 3 bytes back for the lead byte of the last sequence. */
    for (back = 1; back <= 3 && back <= len; back++) {
        unsigned char byte = (unsigned char)bytes[len - back];
        size_t need;

        if ((byte & 0xC0) == 0x80)
            continue; /* a continuation byte: keep looking for its lead */
        need = lead_length(byte);
        if (need == 0)
            return len; /* ASCII or a byte no character starts with: nothing to wait for */
        return back < need ? len - back : len;
    }
    return len; /* only continuation bytes: no sequence the next bytes could complete */
}

size_t acn_utf8_encode(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
