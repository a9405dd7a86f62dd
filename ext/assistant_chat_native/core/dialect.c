/* dialect.c: the table of dialect entries, indexed by acn_provider, and the
 * provider names read from it. */
#include "dialect.h"

#include <string.h>

#define ACN_DIALECT_ENTRY_(ID, name) [ACN_PROVIDER_##ID] = &acn_dialect_##name,
static const acn_dialect *const dialects[ACN_PROVIDER_COUNT] = {ACN_PROVIDERS(ACN_DIALECT_ENTRY_)};
#undef ACN_DIALECT_ENTRY_

const acn_dialect *acn_dialect_of(acn_provider provider)
{
    if ((unsigned)provider >= ACN_PROVIDER_COUNT)
        return NULL;
    return dialects[provider];
}

const char *acn_provider_name(acn_provider provider)
{
    const acn_dialect *dialect = acn_dialect_of(provider);

    return dialect != NULL ? dialect->name : "unknown";
}

int acn_provider_parse(const char *name, size_t len, acn_provider *out)
{
    int i;

    for (i = 0; i < ACN_PROVIDER_COUNT; i++) {
        const char *known = dialects[i]->name;

        if (strlen(known) == len && memcmp(known, name, len) == 0) {
            *out = (acn_provider)i;
            return 0;
        }
    }
    return -1;
}
