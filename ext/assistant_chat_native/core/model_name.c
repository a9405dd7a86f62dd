/*
 * model_name.c: the model an error message names (model_name.h).
 */
#include "model_name.h"

#include <string.h>

static int model_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '@';
}

/*
 * The model a message names: "model: claude-x", "The model `gpt-x` does not
 * exist", "models/gemini-x is not found". Only names that look like model ids
 * (a digit, '-', '.', '_' or '/' in them) count. Returns the length copied.
 */
size_t acn_error_model_name(const acn_error_body *pe, char *out, size_t cap)
{
    size_t from = 0;

    while (from < pe->lower_len) {
        long at = acn_lower_find(pe->lower + from, pe->lower_len - from, "model");
        size_t i, start, n, k;
        int looks_like_id = 0;

        if (at < 0)
            return 0;
        i = from + (size_t)at + 5;
        from = i;
        if (i < pe->lower_len && pe->lower[i] == 's' && i + 1 < pe->lower_len && pe->lower[i + 1] == '/')
            i += 2;
        while (i < pe->lower_len && (pe->lower[i] == ':' || pe->lower[i] == ' ' || pe->lower[i] == '`' ||
                                     pe->lower[i] == '\'' || pe->lower[i] == '"'))
            i++;
        start = i;
        while (i < pe->lower_len && model_name_char(pe->message[i]) && i - start < ACN_ERROR_MODEL_NAME_MAX)
            i++;
        n = i - start;
        while (n > 0 && (pe->message[start + n - 1] == '.' || pe->message[start + n - 1] == ':'))
            n--;
        for (k = 0; k < n; k++) {
            char c = pe->message[start + k];
            if ((c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '/')
                looks_like_id = 1;
        }
        if (n > 0 && looks_like_id && n < cap) {
            memcpy(out, pe->message + start, n);
            out[n] = '\0';
            return n;
        }
    }
    return 0;
}
