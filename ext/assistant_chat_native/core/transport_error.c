/*
 * transport_error.c: libcurl's codes, mapped to what the transport saw
 * (transport_error.h), and the names those have in Ruby.
 */
#include "transport_error.h"

#include <curl/curl.h>
#include <string.h>

typedef struct curl_map {
    int code;
    acn_transport_error error;
    int retryable;
} curl_map;

/* CURLcode values (stable across libcurl versions; numbers, so older headers build). */
static const curl_map curl_codes[] = {
    {1, ACN_TRANSPORT_CONNECT, 0},    /* UNSUPPORTED_PROTOCOL */
    {2, ACN_TRANSPORT_CONNECT, 0},    /* FAILED_INIT */
    {3, ACN_TRANSPORT_CONNECT, 0},    /* URL_MALFORMAT */
    {4, ACN_TRANSPORT_CONNECT, 0},    /* NOT_BUILT_IN */
    {5, ACN_TRANSPORT_CONNECT, 1},    /* COULDNT_RESOLVE_PROXY */
    {6, ACN_TRANSPORT_CONNECT, 1},    /* COULDNT_RESOLVE_HOST */
    {7, ACN_TRANSPORT_CONNECT, 1},    /* COULDNT_CONNECT */
    {8, ACN_TRANSPORT_MALFORMED, 1},  /* WEIRD_SERVER_REPLY */
    {16, ACN_TRANSPORT_LOST, 1},      /* HTTP2 */
    {18, ACN_TRANSPORT_LOST, 1},      /* PARTIAL_FILE */
    {23, ACN_TRANSPORT_LOST, 1},      /* WRITE_ERROR */
    {25, ACN_TRANSPORT_LOST, 1},      /* UPLOAD_FAILED */
    {26, ACN_TRANSPORT_LOST, 1},      /* READ_ERROR */
    {27, ACN_TRANSPORT_LOST, 1},      /* OUT_OF_MEMORY */
    {28, ACN_TRANSPORT_TIMEOUT, 1},   /* OPERATION_TIMEDOUT */
    {35, ACN_TRANSPORT_CONNECT, 1},   /* SSL_CONNECT_ERROR */
    {42, ACN_TRANSPORT_CANCELLED, 0}, /* ABORTED_BY_CALLBACK */
    {43, ACN_TRANSPORT_CONNECT, 0},   /* BAD_FUNCTION_ARGUMENT */
    {45, ACN_TRANSPORT_CONNECT, 1},   /* INTERFACE_FAILED */
    {47, ACN_TRANSPORT_CONNECT, 0},   /* TOO_MANY_REDIRECTS */
    {48, ACN_TRANSPORT_CONNECT, 0},   /* UNKNOWN_OPTION */
    {52, ACN_TRANSPORT_LOST, 1},      /* GOT_NOTHING */
    {53, ACN_TRANSPORT_CONNECT, 0},   /* SSL_ENGINE_NOTFOUND */
    {54, ACN_TRANSPORT_CONNECT, 0},   /* SSL_ENGINE_SETFAILED */
    {55, ACN_TRANSPORT_LOST, 1},      /* SEND_ERROR */
    {56, ACN_TRANSPORT_LOST, 1},      /* RECV_ERROR */
    {58, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CERTPROBLEM */
    {59, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CIPHER */
    {60, ACN_TRANSPORT_CONNECT, 0},   /* PEER_FAILED_VERIFICATION */
    {61, ACN_TRANSPORT_MALFORMED, 1}, /* BAD_CONTENT_ENCODING */
    {63, ACN_TRANSPORT_TOO_LARGE, 0}, /* FILESIZE_EXCEEDED */
    {64, ACN_TRANSPORT_CONNECT, 0},   /* USE_SSL_FAILED */
    {65, ACN_TRANSPORT_LOST, 1},      /* SEND_FAIL_REWIND */
    {66, ACN_TRANSPORT_CONNECT, 0},   /* SSL_ENGINE_INITFAILED */
    {77, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CACERT_BADFILE */
    {80, ACN_TRANSPORT_LOST, 1},      /* SSL_SHUTDOWN_FAILED */
    {81, ACN_TRANSPORT_LOST, 1},      /* AGAIN */
    {82, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CRL_BADFILE */
    {83, ACN_TRANSPORT_CONNECT, 0},   /* SSL_ISSUER_ERROR */
    {89, ACN_TRANSPORT_CONNECT, 1},   /* NO_CONNECTION_AVAILABLE */
    {90, ACN_TRANSPORT_CONNECT, 0},   /* SSL_PINNEDPUBKEYNOTMATCH */
    {91, ACN_TRANSPORT_CONNECT, 0},   /* SSL_INVALIDCERTSTATUS */
    {92, ACN_TRANSPORT_LOST, 1},      /* HTTP2_STREAM */
    {95, ACN_TRANSPORT_LOST, 1},      /* HTTP3 */
    {96, ACN_TRANSPORT_CONNECT, 1},   /* QUIC_CONNECT_ERROR */
    {97, ACN_TRANSPORT_CONNECT, 1},   /* PROXY */
    {98, ACN_TRANSPORT_CONNECT, 0},   /* SSL_CLIENTCERT */
    {99, ACN_TRANSPORT_LOST, 1},      /* UNRECOVERABLE_POLL */
};

static const curl_map *curl_lookup(int code)
{
    size_t i;

    for (i = 0; i < sizeof(curl_codes) / sizeof(curl_codes[0]); i++) {
        if (curl_codes[i].code == code)
            return &curl_codes[i];
    }
    return NULL;
}

acn_transport_error acn_transport_error_from_curl(int curl_code)
{
    const curl_map *map;

    if (curl_code == 0)
        return ACN_TRANSPORT_NONE;
    map = curl_lookup(curl_code);
    /* A code this table does not know ended the transfer somehow: the connection is gone. */
    return map != NULL ? map->error : ACN_TRANSPORT_LOST;
}

static const char *const names[] = {
    [ACN_TRANSPORT_NONE] = "none",           [ACN_TRANSPORT_CONNECT] = "connect",
    [ACN_TRANSPORT_TIMEOUT] = "timeout",     [ACN_TRANSPORT_STALLED] = "stalled",
    [ACN_TRANSPORT_LOST] = "lost",           [ACN_TRANSPORT_INCOMPLETE] = "incomplete",
    [ACN_TRANSPORT_MALFORMED] = "malformed", [ACN_TRANSPORT_TOO_LARGE] = "too_large",
    [ACN_TRANSPORT_CANCELLED] = "cancelled",
};

#define NAME_COUNT ((int)(sizeof(names) / sizeof(names[0])))

/* Every value has its name. */
typedef char acn_every_transport_error_is_named[NAME_COUNT == ACN_TRANSPORT_ERROR_COUNT ? 1 : -1];

int acn_transport_curl_is_permanent(int curl_code, acn_transport_error error)
{
    const curl_map *map = curl_code != 0 ? curl_lookup(curl_code) : NULL;

    return map != NULL && map->error == error && !map->retryable;
}

const char *acn_transport_curl_text(int curl_code)
{
    return curl_easy_strerror((CURLcode)curl_code);
}

const char *acn_transport_error_name(acn_transport_error error)
{
    if ((unsigned)error >= (unsigned)NAME_COUNT)
        return "unknown";
    return names[error];
}

int acn_transport_error_parse(const char *name, size_t len, acn_transport_error *out)
{
    int i;

    for (i = 0; i < NAME_COUNT; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) {
            *out = (acn_transport_error)i;
            return 0;
        }
    }
    return -1;
}
