/*
 * model_name.h: the model an error message names, for copy that names it.
 *
 * Borrows the read body for the call only; writes at most `cap` bytes into the
 * caller's buffer. Looks at no more than the lowercased scan window (error_body.h)
 * and takes names of at most ACN_ERROR_MODEL_NAME_MAX bytes.
 */
#ifndef ACN_MODEL_NAME_H
#define ACN_MODEL_NAME_H

#include "error_body.h"

#define ACN_ERROR_MODEL_NAME_MAX 100

/*
 * The model a message names: "model: claude-x", "The model `gpt-x` does not
 * exist", "models/gemini-x is not found". Only names that look like model ids
 * count. Copies at most cap - 1 bytes and a NUL; returns the length, 0 for none.
 */
size_t acn_error_model_name(const acn_error_body *pe, char *out, size_t cap);

#endif
