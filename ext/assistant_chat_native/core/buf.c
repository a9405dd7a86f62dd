/* buf.c: the bounded byte buffer and its budget, and the names of acn_status. */
#include "acn.h"

#include <stdlib.h>
#include <string.h>

void acn_budget_init(acn_budget *budget, size_t max)
{
    budget->used = 0;
    budget->max = max;
}

acn_status acn_budget_take(acn_budget *budget, size_t bytes)
{
    if (budget->used > budget->max || bytes > budget->max - budget->used)
        return ACN_ERR_LIMIT;
    budget->used += bytes;
    return ACN_OK;
}

void acn_budget_give(acn_budget *budget, size_t bytes)
{
    budget->used -= bytes < budget->used ? bytes : budget->used;
}

void acn_buf_init(acn_buf *buf, size_t max)
{
    buf->ptr = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max;
    buf->budget = NULL;
}

void acn_buf_share(acn_buf *buf, acn_budget *budget)
{
    buf->budget = budget;
}

/* Whether the budget (if any) has room for growing from buf->cap to cap. */
static int budget_allows(const acn_buf *buf, size_t cap)
{
    const acn_budget *budget = buf->budget;
    size_t more = cap - buf->cap;

    return budget == NULL || (budget->used <= budget->max && more <= budget->max - budget->used);
}

static acn_status reserve(acn_buf *buf, size_t extra)
{
    size_t need;
    size_t cap;
    char *grown;

    if (extra > buf->max || buf->len > buf->max - extra)
        return ACN_ERR_LIMIT;
    need = buf->len + extra + 1; /* room for the terminating NUL; at most max + 1 */
    if (need <= buf->cap)
        return ACN_OK;
    cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Doubling never overshoots the bound, and takes no more than the budget has
     * left: the last growth may be exact. */
    if (buf->max < SIZE_MAX && cap > buf->max + 1)
        cap = buf->max + 1;
    if (!budget_allows(buf, cap))
        cap = need;
    if (!budget_allows(buf, cap))
        return ACN_ERR_LIMIT;
    grown = realloc(buf->ptr, cap);
    if (grown == NULL)
        return ACN_ERR_NOMEM;
    if (buf->budget != NULL)
        buf->budget->used += cap - buf->cap;
    buf->ptr = grown;
    buf->cap = cap;
    return ACN_OK;
}

acn_status acn_buf_append(acn_buf *buf, const char *data, size_t len)
{
    acn_status status = reserve(buf, len);

    if (status != ACN_OK)
        return status;
    if (len > 0)
        memcpy(buf->ptr + buf->len, data, len);
    buf->len += len;
    buf->ptr[buf->len] = '\0';
    return ACN_OK;
}

acn_status acn_buf_push(acn_buf *buf, char byte)
{
    return acn_buf_append(buf, &byte, 1);
}

void acn_buf_clear(acn_buf *buf)
{
    buf->len = 0;
    if (buf->ptr != NULL)
        buf->ptr[0] = '\0';
}

void acn_buf_fit(acn_buf *buf)
{
    char *fitted;

    if (buf->ptr == NULL || buf->cap <= buf->len + 1)
        return;
    fitted = realloc(buf->ptr, buf->len + 1);
    if (fitted == NULL)
        return;
    if (buf->budget != NULL)
        acn_budget_give(buf->budget, buf->cap - (buf->len + 1));
    buf->ptr = fitted;
    buf->cap = buf->len + 1;
}

void acn_buf_free(acn_buf *buf)
{
    acn_budget *budget = buf->budget;

    free(buf->ptr);
    if (budget != NULL)
        acn_budget_give(budget, buf->cap);
    acn_buf_init(buf, buf->max);
    buf->budget = budget;
}

const char *acn_status_name(acn_status status)
{
    switch (status) {
    case ACN_OK: return "ok";
    case ACN_ERR_NOMEM: return "out of memory";
    case ACN_ERR_LIMIT: return "size limit exceeded";
    case ACN_ERR_MALFORMED: return "malformed input";
    case ACN_ERR_ABORTED: return "aborted";
    }
    return "unknown";
}
