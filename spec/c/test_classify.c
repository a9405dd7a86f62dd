/*
 * test_classify.c: the classifier (classify.c, failure.c, retry_after.c) against
 * the providers' documented error bodies in spec/fixtures/errors/cases.json, and
 * each input on its own: Retry-After forms, retry-after-ms, x-should-retry,
 * libcurl codes, transport errors, streamed output, secrets, bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "clean_text_check.h"

#define FIXTURES  "spec/fixtures/errors"
#define NOW       1764345600.0 /* Fri, 28 Nov 2025 16:00:00 GMT */
#define MAX_CASES 64

/* ---- helpers ---- */

static acn_classify_input input_for(acn_provider provider, int status, const char *body)
{
    acn_classify_input in;

    memset(&in, 0, sizeof(in));
    in.provider = provider;
    in.status = status;
    in.body = body;
    in.body_len = body != NULL ? strlen(body) : 0;
    in.now = NOW;
    return in;
}

static acn_failure classify_body(acn_provider provider, int status, const char *body)
{
    acn_classify_input in = input_for(provider, status, body);
    acn_failure out;

    acn_classify(&in, &out);
    return out;
}

static acn_failure classify_with_header(int status, const char *name, const char *value)
{
    acn_classify_input in = input_for(ACN_PROVIDER_ANTHROPIC, status, "");
    acn_header header;
    acn_failure out;

    header.name = name;
    header.name_len = strlen(name);
    header.value = value;
    header.value_len = strlen(value);
    in.headers = &header;
    in.header_count = 1;
    acn_classify(&in, &out);
    return out;
}

static acn_failure classify_transport(acn_transport_error error, int curl_code, const char *detail)
{
    acn_classify_input in = input_for(ACN_PROVIDER_OPENAI, 0, NULL);
    acn_failure out;

    in.transport_error = error;
    in.curl_code = curl_code;
    in.transport_detail = detail;
    acn_classify(&in, &out);
    return out;
}

static void assert_kind(const acn_failure *f, acn_failure_kind kind, acn_failure_action action, int retryable)
{
    if (f->kind != kind || f->action != action || f->retryable != retryable)
        print_error("got kind=%s action=%s retryable=%d (message %s; detail %s)\n",
                    acn_failure_kind_name(f->kind), acn_failure_action_name(f->action), f->retryable,
                    f->message, f->detail);
    assert_string_equal(acn_failure_kind_name(f->kind), acn_failure_kind_name(kind));
    assert_string_equal(acn_failure_action_name(f->action), acn_failure_action_name(action));
    assert_int_equal(f->retryable, retryable);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    char *data;
    long size;

    if (file == NULL)
        return NULL;
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    fseek(file, 0, SEEK_SET);
    data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, file), (size_t)size);
    data[size] = '\0';
    fclose(file);
    *len = (size_t)size;
    return data;
}

static yajl_val get(yajl_val object, const char *key)
{
    const char *path[] = {key, NULL};

    return yajl_tree_get(object, path, yajl_t_any);
}

/* ---- every documented error body, from the shared manifest ---- */

static void test_every_fixture_case_classifies_as_the_manifest_says(void **state)
{
    char error[256];
    size_t len, i, j;
    char *manifest = read_file(FIXTURES "/cases.json", &len);
    yajl_val top, cases;

    (void)state;
    assert_non_null(manifest);
    top = yajl_tree_parse(manifest, error, sizeof(error));
    assert_non_null(top);
    cases = get(top, "cases");
    assert_true(YAJL_IS_ARRAY(cases));
    assert_true(cases->u.array.len >= 40);

    for (i = 0; i < cases->u.array.len; i++) {
        yajl_val c = cases->u.array.values[i];
        yajl_val expected = get(c, "expected");
        yajl_val headers = get(c, "headers");
        yajl_val file = get(c, "file");
        yajl_val body = get(c, "body");
        yajl_val mid = get(c, "mid_stream");
        yajl_val retry_after = get(expected, "retry_after");
        yajl_val absent = get(expected, "absent");
        const char *name = YAJL_GET_STRING(get(c, "name"));
        const char *provider = YAJL_GET_STRING(get(c, "provider"));
        acn_header hs[8];
        acn_classify_input in;
        acn_failure out;
        acn_failure_kind kind;
        char *data = NULL;
        char path[512];
        size_t data_len = 0;

        memset(&in, 0, sizeof(in));
        assert_int_equal(acn_provider_parse(provider, strlen(provider), &in.provider), 0);
        in.status = (int)YAJL_GET_INTEGER(get(c, "status"));
        in.now = NOW;
        in.mid_stream = YAJL_IS_TRUE(mid);
        if (YAJL_IS_STRING(file)) {
            snprintf(path, sizeof(path), "%s/%s", FIXTURES, YAJL_GET_STRING(file));
            data = read_file(path, &data_len);
            if (data == NULL)
                fail_msg("%s: cannot read %s", name, path);
            in.body = data;
            in.body_len = data_len;
        } else {
            in.body = YAJL_GET_STRING(body);
            in.body_len = strlen(in.body);
        }
        if (YAJL_IS_OBJECT(headers)) {
            assert_true(headers->u.object.len <= 8);
            for (j = 0; j < headers->u.object.len; j++) {
                hs[j].name = headers->u.object.keys[j];
                hs[j].name_len = strlen(hs[j].name);
                hs[j].value = YAJL_GET_STRING(headers->u.object.values[j]);
                hs[j].value_len = strlen(hs[j].value);
            }
            in.headers = hs;
            in.header_count = headers->u.object.len;
        }
        acn_classify(&in, &out);

        assert_int_equal(acn_failure_kind_parse(YAJL_GET_STRING(get(expected, "kind")),
                                                strlen(YAJL_GET_STRING(get(expected, "kind"))), &kind),
                         0);
        if (out.kind != kind ||
            strcmp(acn_failure_action_name(out.action), YAJL_GET_STRING(get(expected, "action"))) != 0 ||
            out.retryable != YAJL_IS_TRUE(get(expected, "retryable")))
            fail_msg("%s: got kind=%s action=%s retryable=%d (detail: %s)", name,
                     acn_failure_kind_name(out.kind), acn_failure_action_name(out.action), out.retryable,
                     out.detail);
        if (YAJL_IS_NUMBER(retry_after)) {
            if (fabs(out.retry_after - YAJL_GET_DOUBLE(retry_after)) > 1e-6)
                fail_msg("%s: retry_after %f, expected %f", name, out.retry_after,
                         YAJL_GET_DOUBLE(retry_after));
        } else if (out.retry_after >= 0) {
            fail_msg("%s: retry_after %f, expected none", name, out.retry_after);
        }
        assert_int_equal(out.status, in.status);
        if (YAJL_IS_STRING(get(expected, "message_includes")) &&
            strstr(out.message, YAJL_GET_STRING(get(expected, "message_includes"))) == NULL)
            fail_msg("%s: message \"%s\" lacks \"%s\"", name, out.message,
                     YAJL_GET_STRING(get(expected, "message_includes")));
        if (YAJL_IS_STRING(get(expected, "detail_includes")) &&
            strstr(out.detail, YAJL_GET_STRING(get(expected, "detail_includes"))) == NULL)
            fail_msg("%s: detail \"%s\" lacks \"%s\"", name, out.detail,
                     YAJL_GET_STRING(get(expected, "detail_includes")));
        for (j = 0; YAJL_IS_ARRAY(absent) && j < absent->u.array.len; j++) {
            const char *secret = YAJL_GET_STRING(absent->u.array.values[j]);
            if (strstr(out.message, secret) != NULL || strstr(out.detail, secret) != NULL)
                fail_msg("%s: \"%s\" leaked into message \"%s\" or detail \"%s\"", name, secret, out.message,
                         out.detail);
        }
        assert_true(out.message[0] != '\0');
        assert_true(clean_text_ok(out.message));
        assert_true(clean_text_ok(out.detail));
        free(data);
    }
    yajl_tree_free(top);
    free(manifest);
}

/* ---- status and body ---- */

static void test_empty_400_is_an_empty_bad_request_that_escalates(void **state)
{
    acn_failure f = classify_body(ACN_PROVIDER_GEMINI, 400, "");
    acn_failure blank = classify_body(ACN_PROVIDER_GEMINI, 400, " \r\n");
    acn_classify_input in = input_for(ACN_PROVIDER_GEMINI, 400, NULL);
    acn_failure null_body;

    (void)state;
    acn_classify(&in, &null_body);
    assert_kind(&f, ACN_FAILURE_EMPTY_BAD_REQUEST, ACN_ACTION_ESCALATE, 0);
    assert_kind(&blank, ACN_FAILURE_EMPTY_BAD_REQUEST, ACN_ACTION_ESCALATE, 0);
    assert_kind(&null_body, ACN_FAILURE_EMPTY_BAD_REQUEST, ACN_ACTION_ESCALATE, 0);
    assert_string_equal(f.detail, "HTTP 400 with an empty body");
    assert_int_equal(f.status, 400);
    assert_true(f.retry_after < 0);
}

static void test_statuses_without_a_body_follow_the_status(void **state)
{
    static const struct {
        int status;
        acn_failure_kind kind;
        acn_failure_action action;
        int retryable;
    } cases[] = {
        {401, ACN_FAILURE_AUTHENTICATION, ACN_ACTION_FAIL, 0},
        {402, ACN_FAILURE_QUOTA_EXHAUSTED, ACN_ACTION_FAIL, 0},
        {403, ACN_FAILURE_PERMISSION, ACN_ACTION_FAIL, 0},
        {404, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0},
        {408, ACN_FAILURE_TIMEOUT, ACN_ACTION_RETRY, 1},
        {413, ACN_FAILURE_REQUEST_TOO_LARGE, ACN_ACTION_FAIL, 0},
        {422, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0},
        {429, ACN_FAILURE_RATE_LIMITED, ACN_ACTION_RETRY, 1},
        {500, ACN_FAILURE_SERVER_ERROR, ACN_ACTION_RETRY, 1},
        {502, ACN_FAILURE_SERVER_ERROR, ACN_ACTION_RETRY, 1},
        {503, ACN_FAILURE_OVERLOADED, ACN_ACTION_RETRY, 1},
        {504, ACN_FAILURE_TIMEOUT, ACN_ACTION_RETRY, 1},
        {529, ACN_FAILURE_OVERLOADED, ACN_ACTION_RETRY, 1},
        {599, ACN_FAILURE_SERVER_ERROR, ACN_ACTION_RETRY, 1},
        {301, ACN_FAILURE_CONNECTION_FAILED, ACN_ACTION_FAIL, 0},
        {200, ACN_FAILURE_MALFORMED_STREAM, ACN_ACTION_RETRY, 1},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acn_failure f = classify_body(ACN_PROVIDER_ANTHROPIC, cases[i].status, "");
        if (f.kind != cases[i].kind)
            fail_msg("HTTP %d: got %s", cases[i].status, acn_failure_kind_name(f.kind));
        assert_kind(&f, cases[i].kind, cases[i].action, cases[i].retryable);
        assert_string_equal(f.message, acn_failure_copy(cases[i].kind));
    }
}

static void test_non_json_body_keeps_generic_copy_and_a_cleaned_snippet(void **state)
{
    acn_failure f = classify_body(ACN_PROVIDER_OPENAI, 400, "<html><body>\n\tBad\x01Request</body></html>");
    acn_failure text = classify_body(ACN_PROVIDER_OPENAI, 400, "upstream connect error");
    acn_failure broken = classify_body(ACN_PROVIDER_OPENAI, 400, "{\"error\": {\"message\": \"cut");

    (void)state;
    assert_kind(&f, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0);
    assert_string_equal(f.message, acn_failure_copy(ACN_FAILURE_BAD_REQUEST));
    assert_string_equal(f.detail, "HTTP 400: <html><body> Bad Request</body></html>");
    assert_string_equal(text.detail, "upstream connect error");
    assert_kind(&broken, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0);
    assert_string_equal(broken.message, acn_failure_copy(ACN_FAILURE_BAD_REQUEST));
}

static void test_unrecognised_error_passes_the_provider_message_as_is(void **state)
{
    acn_failure f = classify_body(ACN_PROVIDER_ANTHROPIC, 400,
                                  "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                                  "\"message\":\"tools.0.name: String should match pattern\"}}");

    (void)state;
    assert_kind(&f, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0);
    assert_string_equal(f.message, "tools.0.name: String should match pattern");
    assert_string_equal(f.detail, "tools.0.name: String should match pattern");
}

static void test_context_overflow_is_recognised_by_its_words(void **state)
{
    static const char *const messages[] = {
        "prompt is too long: 210000 tokens > 200000 maximum",
        "This model's maximum context length is 8192 tokens",
        "Your input exceeds the context window of this model. Please adjust your input and try again.",
        "Too many tokens in the request",
        "Input is too long for requested model.",
        "The input token count (1304210) exceeds the maximum number of tokens allowed (1048576).",
    };
    char body[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
        acn_failure f;
        snprintf(body, sizeof(body), "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\"}}",
                 messages[i]);
        f = classify_body(ACN_PROVIDER_OPENAI, 400, body);
        if (f.kind != ACN_FAILURE_CONTEXT_OVERFLOW)
            fail_msg("\"%s\" gave %s", messages[i], acn_failure_kind_name(f.kind));
        assert_kind(&f, ACN_FAILURE_CONTEXT_OVERFLOW, ACN_ACTION_COMPACT, 0);
        assert_string_equal(f.message, acn_failure_copy(ACN_FAILURE_CONTEXT_OVERFLOW));
    }
}

static void test_413_about_tokens_compacts_and_about_bytes_fails(void **state)
{
    acn_failure tokens = classify_body(ACN_PROVIDER_ANTHROPIC, 413,
                                       "{\"type\":\"error\",\"error\":{\"type\":\"request_too_large\","
                                       "\"message\":\"prompt is too long: 900000 tokens\"}}");
    acn_failure bytes = classify_body(ACN_PROVIDER_ANTHROPIC, 413, "Request Entity Too Large");

    (void)state;
    assert_kind(&tokens, ACN_FAILURE_REQUEST_TOO_LARGE, ACN_ACTION_COMPACT, 0);
    assert_kind(&bytes, ACN_FAILURE_REQUEST_TOO_LARGE, ACN_ACTION_FAIL, 0);
}

static void test_invalid_model_names_the_model_only_when_it_looks_like_one(void **state)
{
    acn_failure named = classify_body(ACN_PROVIDER_ANTHROPIC, 400,
                                      "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                                      "\"message\":\"model: claude-nope-1\"}}");
    acn_failure unnamed = classify_body(ACN_PROVIDER_OPENAI, 400,
                                        "{\"error\":{\"message\":\"invalid model ID\",\"type\":"
                                        "\"invalid_request_error\",\"code\":null}}");
    acn_failure injected = classify_body(ACN_PROVIDER_ANTHROPIC, 404,
                                         "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\","
                                         "\"message\":\"model: <script>alert(1)</script>\"}}");

    (void)state;
    assert_kind(&named, ACN_FAILURE_INVALID_MODEL, ACN_ACTION_FAIL, 0);
    assert_string_equal(
        named.message,
        "The selected AI model (claude-nope-1) isn't available. Please choose a different model.");
    assert_string_equal(named.detail, "model: claude-nope-1");
    assert_kind(&unnamed, ACN_FAILURE_INVALID_MODEL, ACN_ACTION_FAIL, 0);
    assert_string_equal(unnamed.message, acn_failure_copy(ACN_FAILURE_INVALID_MODEL));
    assert_kind(&injected, ACN_FAILURE_INVALID_MODEL, ACN_ACTION_FAIL, 0);
    assert_null(strchr(injected.message, '<'));
}

static void test_gemini_resource_exhausted_tells_a_rate_limit_from_a_used_up_quota(void **state)
{
    const char *billing = "You exceeded your current quota, please check your plan and billing details.";
    char body[1024];
    acn_failure f;

    (void)state;
    /* Billing words and nothing else: the quota is used up. */
    snprintf(body, sizeof(body),
             "{\"error\":{\"code\":429,\"message\":\"%s\",\"status\":\"RESOURCE_EXHAUSTED\"}}", billing);
    f = classify_body(ACN_PROVIDER_GEMINI, 429, body);
    assert_kind(&f, ACN_FAILURE_QUOTA_EXHAUSTED, ACN_ACTION_FAIL, 0);

    /* The same words with a RetryInfo: a per-minute limit that lifts. */
    snprintf(body, sizeof(body),
             "{\"error\":{\"code\":429,\"message\":\"%s\",\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@"
             "type\":"
             "\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"0.5s\"}]}}",
             billing);
    f = classify_body(ACN_PROVIDER_GEMINI, 429, body);
    assert_kind(&f, ACN_FAILURE_RATE_LIMITED, ACN_ACTION_RETRY, 1);
    assert_true(fabs(f.retry_after - 0.5) < 1e-9);

    /* A per-minute quota id without RetryInfo: still a rate limit. */
    snprintf(body, sizeof(body),
             "{\"error\":{\"code\":429,\"message\":\"%s\",\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@"
             "type\":"
             "\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":[{\"quotaId\":"
             "\"GenerateContentInputTokensPerModelPerMinute-FreeTier\"}]}]}}",
             billing);
    f = classify_body(ACN_PROVIDER_GEMINI, 429, body);
    assert_kind(&f, ACN_FAILURE_RATE_LIMITED, ACN_ACTION_RETRY, 1);
    assert_true(f.retry_after < 0);

    /* A mid-stream RESOURCE_EXHAUSTED chunk reads the same way. */
    {
        acn_classify_input in =
            input_for(ACN_PROVIDER_GEMINI, 200,
                      "{\"error\":{\"code\":429,\"message\":\"Resource has been exhausted "
                      "(e.g. check quota).\",\"status\":\"RESOURCE_EXHAUSTED\"}}");
        in.mid_stream = 1;
        acn_classify(&in, &f);
        assert_kind(&f, ACN_FAILURE_RATE_LIMITED, ACN_ACTION_RETRY, 1);
        assert_int_equal(f.status, 200);
    }
}

static void test_model_names_are_read_from_each_providers_wording(void **state)
{
    static const struct {
        const char *body;
        const char *name;
    } cases[] = {
        {"{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: "
         "claude-3-opus-20240229.\"}}",
         "claude-3-opus-20240229"},
        {"{\"error\":{\"message\":\"The model 'gpt-4.5-preview' does not "
         "exist\",\"code\":\"model_not_found\"}}",
         "gpt-4.5-preview"},
        {"{\"error\":{\"code\":404,\"message\":\"models/gemini-1.0-pro-vision-latest is not found for API "
         "version "
         "v1beta\",\"status\":\"NOT_FOUND\"}}",
         "gemini-1.0-pro-vision-latest"},
        {"{\"error\":{\"message\":\"Unknown model: "
         "\\\"mistral/large\\\"\",\"type\":\"invalid_request_error\"}}",
         "mistral/large"},
    };
    char expected[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acn_failure f = classify_body(ACN_PROVIDER_OPENAI, 404, cases[i].body);
        assert_kind(&f, ACN_FAILURE_INVALID_MODEL, ACN_ACTION_FAIL, 0);
        snprintf(expected, sizeof(expected),
                 "The selected AI model (%s) isn't available. Please choose a different model.",
                 cases[i].name);
        if (strcmp(f.message, expected) != 0)
            fail_msg("got \"%s\", expected \"%s\"", f.message, expected);
    }
}

static void test_mid_stream_payloads(void **state)
{
    acn_classify_input in = input_for(ACN_PROVIDER_ANTHROPIC, 200, "Overloaded");
    acn_failure text, bare, rate, compat, invalid;

    (void)state;
    in.mid_stream = 1;
    acn_classify(&in, &text);
    assert_kind(&text, ACN_FAILURE_OVERLOADED, ACN_ACTION_RETRY, 1);
    assert_string_equal(text.detail, "Overloaded");
    assert_int_equal(text.status, 200);

    in.body = "{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}";
    in.body_len = strlen(in.body);
    acn_classify(&in, &bare);
    assert_kind(&bare, ACN_FAILURE_RATE_LIMITED, ACN_ACTION_RETRY, 1);

    in.body = "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Number of request "
              "tokens has exceeded your per-minute rate limit\"}}";
    in.body_len = strlen(in.body);
    acn_classify(&in, &rate);
    assert_kind(&rate, ACN_FAILURE_RATE_LIMITED, ACN_ACTION_RETRY, 1);

    in.provider = ACN_PROVIDER_OPENAI;
    in.body = "{\"id\":\"gen-1\",\"error\":{\"code\":502,\"message\":\"Provider returned error\"}}";
    in.body_len = strlen(in.body);
    acn_classify(&in, &compat);
    assert_kind(&compat, ACN_FAILURE_SERVER_ERROR, ACN_ACTION_RETRY, 1);

    in.body = "{\"error\":{\"message\":\"Invalid 'tools[0]'\",\"type\":\"invalid_request_error\"}}";
    in.body_len = strlen(in.body);
    acn_classify(&in, &invalid);
    assert_kind(&invalid, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0);
    assert_string_equal(invalid.message, "Invalid 'tools[0]'");
}

/* Anthropic's error event after HTTP 200 carries only the type: billing_error and
 * timeout_error must be read from it, not from the 200 (a server error). */
static void test_anthropic_billing_and_timeout_types_are_read_after_http_200(void **state)
{
    acn_classify_input in = input_for(ACN_PROVIDER_ANTHROPIC, 200,
                                      "{\"type\":\"error\",\"error\":{\"type\":\"billing_error\","
                                      "\"message\":\"Payment is required to continue.\"}}");
    acn_failure billing, timeout;

    (void)state;
    in.mid_stream = 1;
    acn_classify(&in, &billing);
    assert_kind(&billing, ACN_FAILURE_QUOTA_EXHAUSTED, ACN_ACTION_FAIL, 0);
    assert_string_equal(billing.detail, "Payment is required to continue.");

    in.body = "{\"type\":\"error\",\"error\":{\"type\":\"timeout_error\",\"message\":\"Request ran out of "
              "time.\"}}";
    in.body_len = strlen(in.body);
    acn_classify(&in, &timeout);
    assert_kind(&timeout, ACN_FAILURE_TIMEOUT, ACN_ACTION_RETRY, 1);
    assert_string_equal(timeout.detail, "Request ran out of time.");
}

/* ---- headers ---- */

static void test_retry_after_in_seconds(void **state)
{
    acn_failure f = classify_with_header(429, "Retry-After", " 30 ");
    acn_failure zero = classify_with_header(429, "retry-after", "0");

    (void)state;
    assert_true(fabs(f.retry_after - 30) < 1e-9);
    assert_true(fabs(zero.retry_after - 0) < 1e-9);
}

static void test_retry_after_http_dates_in_all_three_forms(void **state)
{
    double when;

    (void)state;
    /* RFC 9110's example date, in each form. */
    assert_int_equal(acn_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29, NOW, &when), 0);
    assert_true(when == 784111777.0);
    assert_int_equal(acn_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", 30, NOW, &when), 0);
    assert_true(when == 784111777.0);
    assert_int_equal(acn_http_date_parse("Sun Nov  6 08:49:37 1994", 24, NOW, &when), 0);
    assert_true(when == 784111777.0);
    assert_int_equal(acn_http_date_parse("Thu, 29 Feb 2024 23:59:59 GMT", 29, NOW, &when), 0);
    assert_true(when == 1709251199.0);

    /* Relative to now: two minutes ahead, and a date in the past means now. */
    assert_true(fabs(acn_retry_after_parse("Fri, 28 Nov 2025 16:02:00 GMT", 29, NOW) - 120) < 1e-9);
    assert_true(fabs(acn_retry_after_parse("Friday, 28-Nov-25 16:00:45 GMT", 30, NOW) - 45) < 1e-9);
    assert_true(fabs(acn_retry_after_parse("Fri Nov 28 16:00:05 2025", 24, NOW) - 5) < 1e-9);
    assert_true(acn_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29, NOW) == 0);
}

static void test_invalid_retry_after_values_are_ignored(void **state)
{
    static const char *const values[] = {
        "",
        "soon",
        "-5",
        "1e3",
        "12abc",
        "9999999999999",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Funday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 06 08:49:37 1994 extra",
        "Mon, 29 Feb 2023 00:00:00 GMT",
        "3.",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        acn_failure f = classify_with_header(429, "retry-after", values[i]);
        if (f.retry_after >= 0)
            fail_msg("\"%s\" gave retry_after %f", values[i], f.retry_after);
        assert_kind(&f, ACN_FAILURE_RATE_LIMITED, ACN_ACTION_RETRY, 1);
    }
    assert_true(acn_retry_after_ms_parse("abc", 3) < 0);
    assert_true(acn_duration_parse("43", 2) < 0);
    assert_true(acn_duration_parse("s", 1) < 0);
}

static void test_go_durations_read_as_their_messages_write_them(void **state)
{
    (void)state;
    assert_float_equal(acn_go_duration_parse("1m30.5s", 7), 90.5, 1e-9);
    assert_float_equal(acn_go_duration_parse("56.68s. Learn more", 18), 56.68, 1e-9);
    assert_float_equal(acn_go_duration_parse("250ms", 5), 0.25, 1e-9);
    assert_float_equal(acn_go_duration_parse("1h2m3s4ms", 9), 3723.004, 1e-9);
    assert_true(acn_go_duration_parse("soon", 4) < 0);
    assert_true(acn_go_duration_parse("30 seconds", 10) < 0);
    assert_true(acn_go_duration_parse("", 0) < 0);
}

static void test_retry_after_ms_wins_over_retry_after(void **state)
{
    acn_classify_input in = input_for(ACN_PROVIDER_OPENAI, 429, "");
    acn_header headers[2] = {
        {"retry-after", 11, "3", 1},
        {"Retry-After-Ms", 14, "1500.5", 6},
    };
    acn_failure f;

    (void)state;
    in.headers = headers;
    in.header_count = 2;
    acn_classify(&in, &f);
    assert_true(fabs(f.retry_after - 1.5005) < 1e-9);
    headers[1].value = "bogus";
    headers[1].value_len = 5;
    acn_classify(&in, &f);
    assert_true(fabs(f.retry_after - 3) < 1e-9);
}

static void test_a_wait_stated_in_the_message_is_read_when_no_header_gives_one(void **state)
{
    static const struct {
        const char *message;
        double seconds;
    } cases[] = {
        {"Rate limit reached for gpt-4o on tokens per min (TPM). Please try again in 2.504s. Visit x.",
         2.504},
        {"Please try again in 120ms.", 0.12},
        {"Please try again in 1m30.5s.", 90.5},
        {"Please try again in 6m0s", 360},
        {"Requests to the ChatCompletions_Create Operation have exceeded call rate limit. Please retry after "
         "20 "
         "seconds.",
         20},
        {"You exceeded your current quota. Please retry in 56.68s.", 56.68},
        {"Please try again later.", -1},
        {"Please retry after a while.", -1},
    };
    char body[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acn_failure f;
        snprintf(body, sizeof(body), "{\"error\":{\"message\":\"%s\",\"code\":\"rate_limit_exceeded\"}}",
                 cases[i].message);
        f = classify_body(ACN_PROVIDER_OPENAI, 429, body);
        assert_kind(&f, ACN_FAILURE_RATE_LIMITED, ACN_ACTION_RETRY, 1);
        if (cases[i].seconds < 0 ? f.retry_after >= 0 : fabs(f.retry_after - cases[i].seconds) > 1e-9)
            fail_msg("\"%s\" gave retry_after %f, expected %f", cases[i].message, f.retry_after,
                     cases[i].seconds);
    }
    /* A header says it better. */
    {
        acn_classify_input in = input_for(ACN_PROVIDER_OPENAI, 429,
                                          "{\"error\":{\"message\":\"Please try again in 20s.\",\"code\":"
                                          "\"rate_limit_exceeded\"}}");
        acn_header header = {"retry-after", 11, "7", 1};
        acn_failure f;
        in.headers = &header;
        in.header_count = 1;
        acn_classify(&in, &f);
        assert_true(fabs(f.retry_after - 7) < 1e-9);
    }
}

static void test_x_should_retry_overrides_retryability(void **state)
{
    acn_failure yes = classify_with_header(400, "X-Should-Retry", "true");
    acn_failure no = classify_with_header(529, "x-should-retry", " FALSE ");
    acn_failure junk = classify_with_header(529, "x-should-retry", "maybe");
    acn_classify_input in =
        input_for(ACN_PROVIDER_ANTHROPIC, 400, "{\"error\":{\"message\":\"prompt is too long\"}}");
    acn_header header = {"x-should-retry", 14, "false", 5};
    acn_failure compact;

    (void)state;
    assert_int_equal(yes.kind, ACN_FAILURE_EMPTY_BAD_REQUEST);
    assert_int_equal(yes.retryable, 1);
    assert_int_equal(yes.action, ACN_ACTION_ESCALATE);
    assert_kind(&no, ACN_FAILURE_OVERLOADED, ACN_ACTION_FAIL, 0);
    assert_kind(&junk, ACN_FAILURE_OVERLOADED, ACN_ACTION_RETRY, 1);

    in.headers = &header;
    in.header_count = 1;
    acn_classify(&in, &compact);
    assert_kind(&compact, ACN_FAILURE_CONTEXT_OVERFLOW, ACN_ACTION_COMPACT, 0);

    header.value = "true";
    header.value_len = 4;
    in.body = "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}";
    in.body_len = strlen(in.body);
    acn_classify(&in, &compact);
    assert_kind(&compact, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_RETRY, 1);
}

static void test_headers_never_reach_message_or_detail(void **state)
{
    acn_classify_input in = input_for(ACN_PROVIDER_ANTHROPIC, 401, "");
    acn_header headers[2] = {
        {"x-api-key", 9, "hdr-secret-value-1234", 21},
        {"retry-after", 11, "hdr-secret-value-1234", 21},
    };
    acn_failure f;

    (void)state;
    in.headers = headers;
    in.header_count = 2;
    acn_classify(&in, &f);
    assert_null(strstr(f.message, "hdr-secret"));
    assert_null(strstr(f.detail, "hdr-secret"));
}

/* ---- transport ---- */

static void test_every_transport_error(void **state)
{
    static const struct {
        acn_transport_error error;
        const char *name;
        acn_failure_kind kind;
        acn_failure_action action;
        int retryable;
    } cases[] = {
        {ACN_TRANSPORT_CONNECT, "connect", ACN_FAILURE_CONNECTION_FAILED, ACN_ACTION_RETRY, 1},
        {ACN_TRANSPORT_TIMEOUT, "timeout", ACN_FAILURE_TIMEOUT, ACN_ACTION_RETRY, 1},
        {ACN_TRANSPORT_STALLED, "stalled", ACN_FAILURE_STALLED, ACN_ACTION_RETRY, 1},
        {ACN_TRANSPORT_LOST, "lost", ACN_FAILURE_CONNECTION_LOST, ACN_ACTION_RETRY, 1},
        {ACN_TRANSPORT_INCOMPLETE, "incomplete", ACN_FAILURE_CONNECTION_LOST, ACN_ACTION_RETRY, 1},
        {ACN_TRANSPORT_MALFORMED, "malformed", ACN_FAILURE_MALFORMED_STREAM, ACN_ACTION_RETRY, 1},
        {ACN_TRANSPORT_TOO_LARGE, "too_large", ACN_FAILURE_MALFORMED_STREAM, ACN_ACTION_FAIL, 0},
        {ACN_TRANSPORT_CANCELLED, "cancelled", ACN_FAILURE_CANCELLED, ACN_ACTION_FAIL, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acn_failure f = classify_transport(cases[i].error, 0, NULL);
        acn_transport_error parsed;
        assert_kind(&f, cases[i].kind, cases[i].action, cases[i].retryable);
        assert_string_equal(acn_transport_error_name(cases[i].error), cases[i].name);
        assert_int_equal(acn_transport_error_parse(cases[i].name, strlen(cases[i].name), &parsed), 0);
        assert_int_equal(parsed, cases[i].error);
        assert_true(f.detail[0] != '\0');
        assert_int_equal(f.status, 0);
        assert_true(f.retry_after < 0);
    }
    assert_int_equal(acn_transport_error_parse("bogus", 5, &(acn_transport_error){0}), -1);
}

static void test_curl_codes_map_to_transport_errors(void **state)
{
    static const struct {
        CURLcode code;
        acn_transport_error error;
        acn_failure_kind kind;
        int retryable;
    } cases[] = {
        {CURLE_COULDNT_RESOLVE_HOST, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 1},
        {CURLE_COULDNT_RESOLVE_PROXY, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 1},
        {CURLE_COULDNT_CONNECT, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 1},
        {CURLE_SSL_CONNECT_ERROR, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 1},
        {CURLE_PEER_FAILED_VERIFICATION, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 0},
        {CURLE_URL_MALFORMAT, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 0},
        {CURLE_UNSUPPORTED_PROTOCOL, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 0},
        {CURLE_TOO_MANY_REDIRECTS, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 0},
        {CURLE_SSL_CACERT_BADFILE, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 0},
        {CURLE_OPERATION_TIMEDOUT, ACN_TRANSPORT_TIMEOUT, ACN_FAILURE_TIMEOUT, 1},
        {CURLE_RECV_ERROR, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
        {CURLE_SEND_ERROR, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
        {CURLE_PARTIAL_FILE, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
        {CURLE_GOT_NOTHING, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
        {CURLE_HTTP2, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
        {CURLE_HTTP2_STREAM, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
        {CURLE_WRITE_ERROR, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
        {CURLE_WEIRD_SERVER_REPLY, ACN_TRANSPORT_MALFORMED, ACN_FAILURE_MALFORMED_STREAM, 1},
        {CURLE_BAD_CONTENT_ENCODING, ACN_TRANSPORT_MALFORMED, ACN_FAILURE_MALFORMED_STREAM, 1},
        {CURLE_FILESIZE_EXCEEDED, ACN_TRANSPORT_TOO_LARGE, ACN_FAILURE_MALFORMED_STREAM, 0},
        {CURLE_ABORTED_BY_CALLBACK, ACN_TRANSPORT_CANCELLED, ACN_FAILURE_CANCELLED, 0},
        {CURLE_PROXY, ACN_TRANSPORT_CONNECT, ACN_FAILURE_CONNECTION_FAILED, 1},
        {CURLE_UNRECOVERABLE_POLL, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
        {(CURLcode)12345, ACN_TRANSPORT_LOST, ACN_FAILURE_CONNECTION_LOST, 1},
    };
    size_t i;

    (void)state;
    assert_int_equal(acn_transport_error_from_curl(CURLE_OK), ACN_TRANSPORT_NONE);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acn_failure f = classify_transport(ACN_TRANSPORT_NONE, (int)cases[i].code, NULL);
        if (acn_transport_error_from_curl((int)cases[i].code) != cases[i].error || f.kind != cases[i].kind ||
            f.retryable != cases[i].retryable)
            fail_msg("CURLcode %d gave %s/%s retryable=%d", (int)cases[i].code,
                     acn_transport_error_name(acn_transport_error_from_curl((int)cases[i].code)),
                     acn_failure_kind_name(f.kind), f.retryable);
        assert_non_null(strstr(f.detail, "libcurl error"));
    }
}

static void test_libcurl_text_becomes_the_detail(void **state)
{
    acn_failure f =
        classify_transport(ACN_TRANSPORT_NONE, CURLE_COULDNT_CONNECT,
                           "Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection refused");
    acn_failure no_text = classify_transport(ACN_TRANSPORT_NONE, CURLE_OPERATION_TIMEDOUT, NULL);

    (void)state;
    assert_string_equal(f.detail, "Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection refused");
    assert_string_equal(f.message, acn_failure_copy(ACN_FAILURE_CONNECTION_FAILED));
    assert_non_null(strstr(no_text.detail, "libcurl error 28"));
}

static void test_http_error_status_wins_over_a_transport_error_but_cancel_wins_over_all(void **state)
{
    acn_classify_input in = input_for(ACN_PROVIDER_ANTHROPIC, 529,
                                      "{\"type\":\"error\",\"error\":{\"type\":"
                                      "\"overloaded_error\",\"message\":\"Overloaded\"}}");
    acn_header header = {"x-should-retry", 14, "true", 4};
    acn_failure f;

    (void)state;
    in.transport_error = ACN_TRANSPORT_LOST;
    acn_classify(&in, &f);
    assert_kind(&f, ACN_FAILURE_OVERLOADED, ACN_ACTION_RETRY, 1);

    in.transport_error = ACN_TRANSPORT_CANCELLED;
    in.headers = &header;
    in.header_count = 1;
    acn_classify(&in, &f);
    assert_kind(&f, ACN_FAILURE_CANCELLED, ACN_ACTION_FAIL, 0);

    in.transport_error = ACN_TRANSPORT_NONE;
    in.status = 200;
    in.body = "";
    in.body_len = 0;
    in.curl_code = CURLE_ABORTED_BY_CALLBACK;
    acn_classify(&in, &f);
    assert_kind(&f, ACN_FAILURE_CANCELLED, ACN_ACTION_FAIL, 0);

    in.curl_code = 0;
    in.transport_error = ACN_TRANSPORT_INCOMPLETE;
    header.value = "false";
    header.value_len = 5;
    acn_classify(&in, &f);
    /* The 200's headers say nothing about a stream that broke later. */
    assert_kind(&f, ACN_FAILURE_CONNECTION_LOST, ACN_ACTION_RETRY, 1);
    assert_int_equal(f.status, 200);
}

/* ---- streamed ---- */

static void test_streamed_output_is_noted_in_the_detail_without_changing_the_kind(void **state)
{
    acn_classify_input in = input_for(ACN_PROVIDER_ANTHROPIC, 200, NULL);
    acn_failure before, after;
    char long_body[3000];

    (void)state;
    in.transport_error = ACN_TRANSPORT_STALLED;
    acn_classify(&in, &before);
    in.streamed = 1;
    acn_classify(&in, &after);
    assert_int_equal(before.kind, after.kind);
    assert_int_equal(before.action, after.action);
    assert_int_equal(before.retryable, after.retryable);
    assert_null(strstr(before.detail, "already been streamed"));
    assert_non_null(strstr(after.detail, "already been streamed"));

    /* A detail at its bound still ends with the note, whole. */
    memset(long_body, 'x', sizeof(long_body) - 1);
    long_body[sizeof(long_body) - 1] = '\0';
    memcpy(long_body, "\xE2\x82\xAC", 3);
    in.transport_error = ACN_TRANSPORT_NONE;
    in.mid_stream = 1;
    in.body = long_body;
    in.body_len = strlen(long_body);
    acn_classify(&in, &after);
    assert_true(strlen(after.detail) < ACN_FAILURE_DETAIL_MAX);
    assert_non_null(strstr(after.detail, "(part of the reply had already been streamed)"));
    assert_true(clean_text_ok(after.detail));
}

/* ---- secrets and text ---- */

static void test_secrets_are_redacted_from_provider_text(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"Incorrect API key provided: sk-ant-api03-AbCdEf123456.", "Incorrect API key provided: [redacted]."},
        {"key AIzaSyA1234567890abcdefghijklmnopqrstu is bad", "key [redacted] is bad"},
        {"GET /v1beta/models?key=AIza_short&alt=sse failed",
         "GET /v1beta/models?key=[redacted]&alt=sse failed"},
        {"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload", "Authorization: Bearer [redacted]"},
        {"x-api-key: abcdef123456 rejected", "x-api-key: [redacted] rejected"},
        {"invalid x-api-key", "invalid x-api-key"},
        {"task-force and risk-free", "task-force and risk-free"},
        {"  spaced\r\n\tout\x01text  ", "spaced out text"},
        {"bad \xFF byte", "bad \xEF\xBF\xBD byte"},
    };
    char out[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acn_failure_clean_text(out, sizeof(out), cases[i].in, strlen(cases[i].in));
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("cleaned \"%s\" to \"%s\", expected \"%s\"", cases[i].in, out, cases[i].out);
    }
}

static void test_clean_text_cuts_at_a_character_boundary(void **state)
{
    char out[6];
    char tiny[1];

    (void)state;
    /* "aé€" is 1 + 2 + 3 bytes; 5 bytes of room keep "aé". */
    assert_int_equal(acn_failure_clean_text(out, sizeof(out), "a\xC3\xA9\xE2\x82\xAC", 6), 3);
    assert_string_equal(out, "a\xC3\xA9");
    assert_int_equal(acn_failure_clean_text(tiny, sizeof(tiny), "abc", 3), 0);
    assert_string_equal(tiny, "");
    /* A secret that does not fit is dropped, never cut open. */
    assert_int_equal(acn_failure_clean_text(out, sizeof(out), "ab sk-0123456789", 16), 2);
    assert_string_equal(out, "ab");
}

/* ---- bounds ---- */

static void test_huge_and_deep_bodies_are_bounded(void **state)
{
    size_t huge_len = ACN_CLASSIFY_MAX_JSON + 100, i;
    char *huge = malloc(huge_len + 1);
    char *deep = malloc(200001);
    acn_failure f;

    (void)state;
    assert_non_null(huge);
    assert_non_null(deep);
    /* Valid JSON, but over the bound: read as text, not parsed. */
    memcpy(huge, "{\"error\":{\"message\":\"", 21);
    memset(huge + 21, 'a', huge_len - 21);
    memcpy(huge + huge_len - 3, "\"}}", 3);
    huge[huge_len] = '\0';
    f = classify_body(ACN_PROVIDER_OPENAI, 500, huge);
    assert_kind(&f, ACN_FAILURE_SERVER_ERROR, ACN_ACTION_RETRY, 1);
    assert_true(strlen(f.detail) < ACN_FAILURE_DETAIL_MAX);

    for (i = 0; i < 100000; i++)
        deep[i] = '[';
    for (i = 100000; i < 200000; i++)
        deep[i] = ']';
    deep[200000] = '\0';
    f = classify_body(ACN_PROVIDER_GEMINI, 400, deep);
    assert_kind(&f, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0);

    /* Nested within the bound parses. */
    f = classify_body(ACN_PROVIDER_GEMINI, 400, "[[[[{\"error\":{\"message\":\"deep\"}}]]]]");
    assert_kind(&f, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0);
    free(huge);
    free(deep);
}

/* ~80 KB: {"error": then a comment holding a quote, then `levels` arrays, as an attacker sends it. */
static char *comment_bomb(size_t levels)
{
    char *body = malloc(levels * 2 + 64);
    size_t n, i;

    assert_non_null(body);
    n = (size_t)sprintf(body, "{\"error\": /* \" */ ");
    for (i = 0; i < levels; i++)
        body[n++] = '[';
    for (i = 0; i < levels; i++)
        body[n++] = ']';
    body[n++] = '}';
    body[n] = '\0';
    return body;
}

static void test_a_comment_hiding_deep_nesting_is_read_as_text(void **state)
{
    char *body = comment_bomb(40000);
    acn_classify_input in = input_for(ACN_PROVIDER_ANTHROPIC, 500, body);
    acn_failure f;

    (void)state;
    acn_classify(&in, &f);
    assert_kind(&f, ACN_FAILURE_SERVER_ERROR, ACN_ACTION_RETRY, 1);
    assert_true(strncmp(f.detail, "{\"error\": /* \" */ [[[", 21) == 0);
    assert_true(clean_text_ok(f.detail));

    /* the same bytes as a mid-stream error event's payload */
    in.status = 200;
    in.mid_stream = 1;
    acn_classify(&in, &f);
    assert_string_equal(acn_failure_kind_name(f.kind), "server_error");
    assert_true(strncmp(f.detail, "{\"error\": /* \" */ [[[", 21) == 0);
    free(body);
}

static void test_json_with_a_comment_is_read_as_text(void **state)
{
    acn_failure f;

    (void)state;
    /* The words are phrases the classifier knows; as text they are still read. */
    f = classify_body(ACN_PROVIDER_OPENAI, 400, "{\"error\": {\"message\": \"prompt is too long\"} /* x */}");
    assert_string_equal(acn_failure_kind_name(f.kind), "context_overflow");
    assert_non_null(strstr(f.detail, "/* x */"));
    f = classify_body(ACN_PROVIDER_OPENAI, 400, "{\"error\": {\"type\": \"invalid_request_error\"}}");
    assert_string_equal(f.detail, "HTTP 400: invalid_request_error");
    f = classify_body(ACN_PROVIDER_OPENAI, 400, "{\"error\": {\"type\": /**/ \"invalid_request_error\"}}");
    assert_null(strstr(f.detail, "HTTP 400: invalid_request_error"));
}

/* {"error": {"message": "deep"}, "x": [[...]]}: `depth` levels in all. */
static char *nested_body(size_t depth)
{
    char *body = malloc(2 * depth + 64);
    size_t n, i;

    assert_non_null(body);
    n = (size_t)sprintf(body, "{\"error\": {\"message\": \"deep\"}, \"x\": ");
    for (i = 1; i < depth; i++)
        body[n++] = '[';
    for (i = 1; i < depth; i++)
        body[n++] = ']';
    body[n++] = '}';
    body[n] = '\0';
    return body;
}

static void test_a_body_nested_100_deep_is_json_and_101_is_text(void **state)
{
    char *ok = nested_body(ACN_JSON_MAX_DEPTH);
    char *deep = nested_body(ACN_JSON_MAX_DEPTH + 1);
    acn_failure f;

    (void)state;
    f = classify_body(ACN_PROVIDER_GEMINI, 400, ok);
    assert_string_equal(f.detail, "deep");
    f = classify_body(ACN_PROVIDER_GEMINI, 400, deep);
    assert_true(strncmp(f.detail, "{\"error\": {\"message\": \"deep\"}", 28) == 0);
    free(ok);
    free(deep);
}

static void test_fields_are_read_in_any_key_order_and_the_first_of_a_repeated_key_wins(void **state)
{
    acn_failure f;

    (void)state;
    /* @type after the fields it qualifies; details before message. */
    f = classify_body(ACN_PROVIDER_GEMINI, 429,
                      "{\"error\": {\"details\": [{\"retryDelay\": \"7s\", \"@type\": "
                      "\"type.googleapis.com/google.rpc.RetryInfo\"}], \"status\": \"RESOURCE_EXHAUSTED\", "
                      "\"code\": 429, \"message\": \"Resource has been exhausted\"}}");
    assert_string_equal(acn_failure_kind_name(f.kind), "rate_limited");
    assert_true(f.retry_after > 6.9 && f.retry_after < 7.1);
    /* the root array's first object speaks, whatever comes before it */
    f = classify_body(
        ACN_PROVIDER_OPENAI, 400,
        "[1, [{\"error\": {\"message\": \"no\"}}], {\"error\": {\"message\": \"prompt is too long\"}}, "
        "{\"error\": {\"message\": \"later\"}}]");
    assert_string_equal(acn_failure_kind_name(f.kind), "context_overflow");
    assert_string_equal(f.detail, "prompt is too long");
    f = classify_body(ACN_PROVIDER_OPENAI, 400,
                      "{\"error\": {\"message\": \"first words\", \"message\": \"second words\"}}");
    assert_string_equal(f.detail, "first words");
    /* an error object's own key named "error" is not the error */
    f = classify_body(ACN_PROVIDER_OPENAI, 400,
                      "{\"detail\": \"plain detail\", \"x\": {\"error\": \"inner\"}}");
    assert_string_equal(f.detail, "plain detail");
}

static void test_body_is_read_only_within_its_length(void **state)
{
    /* The length stops before the closing braces: the body is not valid JSON. */
    const char *text = "{\"error\":{\"message\":\"prompt is too long\"}}AND MORE";
    acn_classify_input in = input_for(ACN_PROVIDER_OPENAI, 400, text);
    acn_failure f;
    char *exact = malloc(30);

    (void)state;
    assert_non_null(exact);
    memcpy(exact, text, 30); /* no NUL: ASan catches a read past it */
    in.body = exact;
    in.body_len = 30;
    acn_classify(&in, &f);
    assert_kind(&f, ACN_FAILURE_BAD_REQUEST, ACN_ACTION_FAIL, 0);
    free(exact);

    in.body = "{\"error\":{\"message\":\"has\\u0000nul\"}}";
    in.body_len = strlen(in.body);
    acn_classify(&in, &f);
    /* yajl hands strings over NUL-terminated: the text ends at the escaped NUL. */
    assert_string_equal(f.message, "has");
}

/* ---- the taxonomy's names and defaults ---- */

static void test_every_kind_has_a_name_copy_and_default(void **state)
{
    int i;

    (void)state;
    for (i = 1; i < ACN_FAILURE_KIND_COUNT; i++) {
        acn_failure f;
        acn_failure_kind parsed;
        const char *name = acn_failure_kind_name((acn_failure_kind)i);
        assert_int_equal(acn_failure_kind_parse(name, strlen(name), &parsed), 0);
        assert_int_equal(parsed, i);
        assert_true(strlen(acn_failure_copy((acn_failure_kind)i)) > 10);
        acn_failure_init(&f, (acn_failure_kind)i, 0);
        assert_string_equal(f.message, acn_failure_copy((acn_failure_kind)i));
        assert_true(f.retry_after < 0);
        assert_string_equal(f.detail, "");
        /* Only retry actions are retryable by default. */
        assert_int_equal(f.retryable, f.action == ACN_ACTION_RETRY);
    }
    assert_string_equal(acn_failure_kind_name((acn_failure_kind)99), "unknown");
    assert_string_equal(acn_failure_action_name((acn_failure_action)99), "unknown");
    assert_string_equal(acn_failure_action_name(ACN_ACTION_ESCALATE), "escalate");
    assert_int_equal(acn_failure_kind_parse("rate_limite", 11, &(acn_failure_kind){0}), -1);
}

static void test_case_copy_takes_its_value_as_text_cleaned_and_bounded(void **state)
{
    char out[64];
    char big[ACN_FAILURE_DETAIL_MAX + 100];
    int i;

    (void)state;
    for (i = 0; i < ACN_COPY_COUNT; i++) {
        assert_true(strlen(acn_failure_case_copy((acn_failure_copy_id)i)) > 10);
        assert_string_not_equal(acn_failure_case_copy_name((acn_failure_copy_id)i), "unknown");
    }
    assert_string_equal(acn_failure_case_copy((acn_failure_copy_id)99), "");

    char message[ACN_FAILURE_MESSAGE_MAX];
    acn_failure_case_copy_fill(message, sizeof(message), ACN_COPY_INVALID_MODEL_NAMED, "gpt-%s-%n");
    assert_string_equal(
        message, "The selected AI model (gpt-%s-%n) isn't available. Please choose a different model.");
    /* A secret in the value is redacted like any provider text. */
    acn_failure_case_copy_fill(message, sizeof(message), ACN_COPY_INVALID_MODEL_NAMED,
                               "sk-planted0123456789");
    assert_non_null(strstr(message, "([redacted])"));
    /* No value: the copy as it stands. */
    acn_failure_case_copy_fill(message, sizeof(message), ACN_COPY_COMPACTION_EXHAUSTED, NULL);
    assert_string_equal(message, acn_failure_case_copy(ACN_COPY_COMPACTION_EXHAUSTED));
    /* A value past every bound is cut; the result fits its buffer. */
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(acn_failure_case_copy_fill(out, sizeof(out), ACN_COPY_INVALID_MODEL_NAMED, big), 63);
    assert_int_equal(strlen(out), 63);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture_case_classifies_as_the_manifest_says),
        cmocka_unit_test(test_go_durations_read_as_their_messages_write_them),
        cmocka_unit_test(test_empty_400_is_an_empty_bad_request_that_escalates),
        cmocka_unit_test(test_statuses_without_a_body_follow_the_status),
        cmocka_unit_test(test_non_json_body_keeps_generic_copy_and_a_cleaned_snippet),
        cmocka_unit_test(test_unrecognised_error_passes_the_provider_message_as_is),
        cmocka_unit_test(test_context_overflow_is_recognised_by_its_words),
        cmocka_unit_test(test_413_about_tokens_compacts_and_about_bytes_fails),
        cmocka_unit_test(test_invalid_model_names_the_model_only_when_it_looks_like_one),
        cmocka_unit_test(test_gemini_resource_exhausted_tells_a_rate_limit_from_a_used_up_quota),
        cmocka_unit_test(test_model_names_are_read_from_each_providers_wording),
        cmocka_unit_test(test_mid_stream_payloads),
        cmocka_unit_test(test_anthropic_billing_and_timeout_types_are_read_after_http_200),
        cmocka_unit_test(test_retry_after_in_seconds),
        cmocka_unit_test(test_retry_after_http_dates_in_all_three_forms),
        cmocka_unit_test(test_invalid_retry_after_values_are_ignored),
        cmocka_unit_test(test_retry_after_ms_wins_over_retry_after),
        cmocka_unit_test(test_a_wait_stated_in_the_message_is_read_when_no_header_gives_one),
        cmocka_unit_test(test_x_should_retry_overrides_retryability),
        cmocka_unit_test(test_headers_never_reach_message_or_detail),
        cmocka_unit_test(test_every_transport_error),
        cmocka_unit_test(test_curl_codes_map_to_transport_errors),
        cmocka_unit_test(test_libcurl_text_becomes_the_detail),
        cmocka_unit_test(test_http_error_status_wins_over_a_transport_error_but_cancel_wins_over_all),
        cmocka_unit_test(test_streamed_output_is_noted_in_the_detail_without_changing_the_kind),
        cmocka_unit_test(test_secrets_are_redacted_from_provider_text),
        cmocka_unit_test(test_clean_text_cuts_at_a_character_boundary),
        cmocka_unit_test(test_huge_and_deep_bodies_are_bounded),
        cmocka_unit_test(test_a_comment_hiding_deep_nesting_is_read_as_text),
        cmocka_unit_test(test_json_with_a_comment_is_read_as_text),
        cmocka_unit_test(test_a_body_nested_100_deep_is_json_and_101_is_text),
        cmocka_unit_test(test_fields_are_read_in_any_key_order_and_the_first_of_a_repeated_key_wins),
        cmocka_unit_test(test_body_is_read_only_within_its_length),
        cmocka_unit_test(test_every_kind_has_a_name_copy_and_default),
        cmocka_unit_test(test_case_copy_takes_its_value_as_text_cleaned_and_bounded),
    };

    return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
