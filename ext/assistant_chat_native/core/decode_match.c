/* decode_match.c: a payload's strings against a dialect's names (decode_match.h). */
#include "decode_match.h"

int acn_decode_one_of(const char *text, size_t len, const char *const *names)
{
    for (; *names != NULL; names++) {
        if (acn_decode_is(text, len, *names))
            return 1;
    }
    return 0;
}

acn_stop_reason acn_decode_stop_reason(const acn_stop_name *table, const char *text, size_t len)
{
    for (; table->name != NULL; table++) {
        if (acn_decode_is(text, len, table->name))
            return table->reason;
    }
    return table->reason;
}
