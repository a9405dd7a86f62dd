/* transport.c: one streamed HTTP POST over libcurl's multi interface (see transport.h). */
#include "transport.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- process-wide state: curl_global_init, the DNS/TLS share, fork handling ---- */

typedef struct share_state {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
} share_state;

/* Each native thread's cached multi handle: its connection cache. */
typedef struct thread_cache {
    CURLM *multi;
    pid_t pid;
    int lent;
} thread_cache;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static pthread_mutex_t share_mutex = PTHREAD_MUTEX_INITIALIZER;
static share_state *shared;
static pid_t shared_pid;

static void lock_share(CURL *easy, curl_lock_data data, curl_lock_access access, void *userp)
{
    share_state *state = userp;

    (void)easy;
    (void)access;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&state->locks[data]);
}

static void unlock_share(CURL *easy, curl_lock_data data, void *userp)
{
    share_state *state = userp;

    (void)easy;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&state->locks[data]);
}

static void drop_cache(void *value)
{
    thread_cache *cache = value;

    /* A multi inherited across fork is dropped, never cleaned up (see transport.h). */
    if (cache->multi != NULL && cache->pid == getpid() && !cache->lent)
        curl_multi_cleanup(cache->multi);
    free(cache);
}

static void after_fork_in_child(void)
{
    /* The parent's share and its locks may be mid-use by a thread that does not exist
     * here: start over with fresh ones and let the old memory go. */
    pthread_mutex_init(&share_mutex, NULL);
    shared = NULL;
    shared_pid = 0;
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_key_create(&cache_key, drop_cache);
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

static CURLSH *process_share(void)
{
    share_state *state;

    pthread_mutex_lock(&share_mutex);
    if (shared == NULL || shared_pid != getpid()) {
        shared = NULL;
        state = calloc(1, sizeof(*state));
        if (state != NULL) {
            state->share = curl_share_init();
            if (state->share == NULL) {
                free(state);
            } else {
                int i;
                for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
                    pthread_mutex_init(&state->locks[i], NULL);
                curl_share_setopt(state->share, CURLSHOPT_LOCKFUNC, lock_share);
                curl_share_setopt(state->share, CURLSHOPT_UNLOCKFUNC, unlock_share);
                curl_share_setopt(state->share, CURLSHOPT_USERDATA, state);
                curl_share_setopt(state->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
                curl_share_setopt(state->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
                shared = state;
                shared_pid = getpid();
            }
        }
    }
    state = shared;
    pthread_mutex_unlock(&share_mutex);
    return state != NULL ? state->share : NULL;
}

/* Lends this thread's multi handle; a nested transfer on the same thread gets its own. */
static CURLM *borrow_multi(int *from_cache)
{
    thread_cache *cache = pthread_getspecific(cache_key);

    *from_cache = 0;
    if (cache == NULL) {
        cache = calloc(1, sizeof(*cache));
        if (cache == NULL)
            return curl_multi_init();
        pthread_setspecific(cache_key, cache);
    }
    if (cache->multi != NULL && cache->pid != getpid()) {
        cache->multi = NULL; /* inherited across fork: dropped, not closed */
        cache->lent = 0;
    }
    if (cache->lent)
        return curl_multi_init();
    if (cache->multi == NULL) {
        cache->multi = curl_multi_init();
        cache->pid = getpid();
        if (cache->multi == NULL)
            return NULL;
    }
    cache->lent = 1;
    *from_cache = 1;
    return cache->multi;
}

static void return_multi(CURLM *multi, int from_cache)
{
    thread_cache *cache = pthread_getspecific(cache_key);

    if (from_cache && cache != NULL && cache->multi == multi) {
        cache->lent = 0;
        return;
    }
    curl_multi_cleanup(multi);
}

void acn_transport_release_thread_cache(void)
{
    thread_cache *cache;

    pthread_once(&global_once, global_init);
    cache = pthread_getspecific(cache_key);
    if (cache == NULL || cache->lent)
        return;
    pthread_setspecific(cache_key, NULL);
    drop_cache(cache);
}

uint64_t acn_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long ns_to_ms_ceil(uint64_t ns)
{
    uint64_t ms = (ns + 999999u) / 1000000u;

    return ms > (uint64_t)LONG_MAX ? LONG_MAX : (long)ms;
}

/* ---- libcurl callbacks ---- */

static int parse_status(const char *line, size_t len)
{
    size_t i = 0;
    int status = 0;
    int digits = 0;

    while (i < len && line[i] != ' ')
        i++;
    while (i < len && line[i] == ' ')
        i++;
    while (i < len && digits < 3 && line[i] >= '0' && line[i] <= '9') {
        status = status * 10 + (line[i] - '0');
        digits++;
        i++;
    }
    return digits == 3 ? status : 0;
}

static size_t on_header(char *data, size_t size, size_t count, void *userp)
{
    acn_transport *transport = userp;
    size_t len = size * count;
    uint64_t now = acn_now_ns();

    transport->last_byte_ns = now;
    if (transport->first_byte_ns == 0)
        transport->first_byte_ns = now;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a 1xx, say): only the final one's headers count. */
        transport->status = parse_status(data, len);
        acn_buf_clear(&transport->header_bytes);
        transport->header_count = 0;
    } else if (len > 2 && transport->header_bytes.len + len <= transport->header_bytes.max) {
        /* Past the bound, later headers are dropped rather than failing the response. */
        if (acn_buf_append(&transport->header_bytes, data, len) != ACN_OK)
            return 0;
    }
    return len;
}

static size_t on_write(char *data, size_t size, size_t count, void *userp)
{
    acn_transport *transport = userp;
    size_t len = size * count;
    size_t room;

    transport->last_byte_ns = acn_now_ns();
    transport->body_bytes += len;
    if (transport->status >= 200 && transport->status < 300) {
        if (transport->on_body(transport->ctx, data, len) != 0) {
            transport->aborted = 1;
            return 0;
        }
        return len;
    }
    /* A non-2xx body is kept (bounded) for the classifier, never decoded. */
    room = transport->error_body.max - transport->error_body.len;
    if (acn_buf_append(&transport->error_body, data, len < room ? len : room) != ACN_OK || len > room) {
        transport->error_body_full = 1;
        return 0;
    }
    return len;
}

/* ---- headers ---- */

static int header_named(const char *line, const char *name)
{
    size_t len = strlen(name);
    size_t i;

    for (i = 0; i < len; i++) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != name[i])
            return 0;
    }
    return line[len] == ':' || line[len] == ';';
}

static int append_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(*list, line);

    if (grown == NULL)
        return -1;
    *list = grown;
    return 0;
}

void acn_transport_wipe(void *ptr, size_t len)
{
#ifdef HAVE_EXPLICIT_BZERO
    explicit_bzero(ptr, len);
#else
    volatile unsigned char *p = ptr;

    while (len-- > 0)
        *p++ = 0;
#endif
}

/* curl_slist_append copied each line (the API key among them): wipe, then free. */
static void free_headers(struct curl_slist *list)
{
    struct curl_slist *item;

    for (item = list; item != NULL; item = item->next) {
        if (item->data != NULL)
            acn_transport_wipe(item->data, strlen(item->data));
    }
    curl_slist_free_all(list);
}

static struct curl_slist *build_headers(const acn_transport_request *request)
{
    struct curl_slist *list = NULL;
    int has_type = 0;
    int has_accept = 0;
    size_t i;

    /* Compression would batch events and ruin time to first token. */
    if (append_header(&list, "Accept-Encoding: identity") != 0 || append_header(&list, "Expect:") != 0)
        goto fail;
    for (i = 0; i < request->header_count; i++) {
        const char *line = request->headers[i];
        if (header_named(line, "accept-encoding") || header_named(line, "expect"))
            continue;
        has_type |= header_named(line, "content-type");
        has_accept |= header_named(line, "accept");
        if (append_header(&list, line) != 0)
            goto fail;
    }
    if (!has_type && append_header(&list, "Content-Type: application/json") != 0)
        goto fail;
    if (!has_accept && append_header(&list, "Accept: text/event-stream") != 0)
        goto fail;
    return list;
fail:
    free_headers(list);
    return NULL;
}

/* Splits the captured "name: value\r\n" lines into acn_header entries. */
static void index_headers(acn_transport *transport)
{
    char *p = transport->header_bytes.ptr;
    char *end;

    transport->header_count = 0;
    if (p == NULL)
        return;
    end = p + transport->header_bytes.len;
    while (p < end && transport->header_count < ACN_TRANSPORT_MAX_HEADERS) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        char *line_end = eol != NULL ? eol : end;
        char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon != NULL) {
            char *value = colon + 1;
            char *value_end = line_end;
            while (value < value_end && (*value == ' ' || *value == '\t'))
                value++;
            while (value_end > value && (value_end[-1] == '\r' || value_end[-1] == ' '))
                value_end--;
            acn_header *header = &transport->headers[transport->header_count++];
            header->name = p;
            header->name_len = (size_t)(colon - p);
            header->value = value;
            header->value_len = (size_t)(value_end - value);
        }
        p = eol != NULL ? eol + 1 : end;
    }
}

/* ---- the transfer ---- */

/* Only http and https, also on redirects (none are followed anyway). The string form
 * exists from libcurl 7.85; the bitmask is the fallback for older libraries, at build
 * time or at run time (a library older than the headers refuses the string option).
 * Non-zero when neither holds: the transfer is then refused. */
static int restrict_protocols(CURL *easy)
{
#if LIBCURL_VERSION_NUM >= 0x075500
    if (curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK)
        return 0;
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    if (curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) == CURLE_OK)
        return 0;
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    return -1;
}

/* A CA bundle or directory given by the caller replaces libcurl's default. */
static int set_trust(CURL *easy, const acn_transport_request *request)
{
    if (request->ca_file != NULL && curl_easy_setopt(easy, CURLOPT_CAINFO, request->ca_file) != CURLE_OK)
        return -1;
    if (request->ca_path != NULL && curl_easy_setopt(easy, CURLOPT_CAPATH, request->ca_path) != CURLE_OK)
        return -1;
    return 0;
}

/* A condition variable timed on the monotonic clock, like every deadline here. */
static void init_wake(pthread_cond_t *wake)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(wake, &attr);
    pthread_condattr_destroy(&attr);
}

acn_status acn_transport_init(acn_transport *transport, const acn_transport_request *request,
                              acn_transport_body_fn on_body, void *ctx)
{
    CURL *easy;
    CURLSH *share;
    int from_cache = 0;

    memset(transport, 0, sizeof(*transport));
    pthread_once(&global_once, global_init);
    pthread_mutex_init(&transport->lock, NULL);
    init_wake(&transport->wake);
    transport->lock_ready = 1;
    acn_buf_init(&transport->header_bytes,
                 request->max_header_bytes ? request->max_header_bytes : ACN_TRANSPORT_DEFAULT_MAX_HEADER);
    acn_buf_init(&transport->error_body,
                 request->max_error_body ? request->max_error_body : ACN_TRANSPORT_DEFAULT_MAX_ERROR_BODY);
    transport->on_body = on_body;
    transport->ctx = ctx;
    transport->stall_timeout_ns = request->stall_timeout_ns;
    transport->done = 0;

    transport->body = malloc(request->body_len + 1);
    transport->slist = build_headers(request);
    transport->easy = easy = curl_easy_init();
    if (transport->body == NULL || transport->slist == NULL || easy == NULL)
        goto nomem;
    memcpy(transport->body, request->body, request->body_len);
    transport->body[request->body_len] = '\0';
    transport->body_len = request->body_len;

    transport->multi = borrow_multi(&from_cache);
    if (transport->multi == NULL)
        goto nomem;
    transport->owns_multi = !from_cache;

    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transport->error_text);
    if (curl_easy_setopt(easy, CURLOPT_URL, request->url) != CURLE_OK)
        goto refused;
    if (restrict_protocols(easy) != 0) {
        acn_transport_free(transport);
        strcpy(transport->error_text, "libcurl cannot restrict the transfer to http and https");
        return ACN_ERR_MALFORMED;
    }
    if (set_trust(easy, request) != 0) {
        acn_transport_free(transport);
        strcpy(transport->error_text, "libcurl refused the CA file or directory");
        return ACN_ERR_MALFORMED;
    }
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transport->body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_len);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, (struct curl_slist *)transport->slist);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "assistant_chat_native");
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 15L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    if (request->connect_timeout_ns > 0)
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, ns_to_ms_ceil(request->connect_timeout_ns));
    if (request->timeout_ns > 0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ns_to_ms_ceil(request->timeout_ns));
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, transport);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transport);
    share = process_share();
    if (share != NULL)
        curl_easy_setopt(easy, CURLOPT_SHARE, share);
    return ACN_OK;

refused:
    acn_transport_free(transport);
    strcpy(transport->error_text, "libcurl refused the URL");
    return ACN_ERR_MALFORMED;
nomem:
    acn_transport_free(transport);
    return ACN_ERR_NOMEM;
}

unsigned acn_transport_idle(acn_transport *transport, uint64_t deadline_ns)
{
    struct timespec until;
    unsigned signals;

    until.tv_sec = (time_t)(deadline_ns / 1000000000u);
    until.tv_nsec = (long)(deadline_ns % 1000000000u);
    pthread_mutex_lock(&transport->lock);
    while (transport->signals == 0 && acn_now_ns() < deadline_ns) {
        if (pthread_cond_timedwait(&transport->wake, &transport->lock, &until) != 0)
            break;
    }
    signals = transport->signals;
    transport->signals = 0;
    pthread_mutex_unlock(&transport->lock);
    return signals;
}

static unsigned take_signals(acn_transport *transport)
{
    unsigned signals;

    pthread_mutex_lock(&transport->lock);
    signals = transport->signals;
    transport->signals = 0;
    pthread_mutex_unlock(&transport->lock);
    return signals;
}

static unsigned peek_signals(acn_transport *transport)
{
    unsigned signals;

    pthread_mutex_lock(&transport->lock);
    signals = transport->signals;
    pthread_mutex_unlock(&transport->lock);
    return signals;
}

static void finish(acn_transport *transport, int curl_code)
{
    long status = 0;
    long connects = 0;

    transport->done = 1;
    transport->curl_code = curl_code;
    curl_easy_getinfo(transport->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status > 0)
        transport->status = (int)status;
    curl_easy_getinfo(transport->easy, CURLINFO_NUM_CONNECTS, &connects);
    transport->new_connections = connects;
    if (curl_code != CURLE_OK && transport->error_text[0] == '\0') {
        strncpy(transport->error_text, curl_easy_strerror((CURLcode)curl_code),
                sizeof(transport->error_text) - 1);
    }
    index_headers(transport);
}

static void collect(acn_transport *transport)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(transport->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == transport->easy)
            finish(transport, (int)msg->data.result);
    }
}

unsigned acn_transport_step(acn_transport *transport, uint64_t deadline_ns)
{
    int running;

    if (transport->done || transport->easy == NULL)
        return take_signals(transport);
    if (!transport->added) {
        transport->started_ns = transport->last_byte_ns = acn_now_ns();
        if (curl_multi_add_handle(transport->multi, transport->easy) != CURLM_OK) {
            strcpy(transport->error_text, "libcurl could not start the transfer");
            finish(transport, CURLE_FAILED_INIT);
            return take_signals(transport);
        }
        transport->added = 1;
    }
    for (;;) {
        uint64_t bytes_before = transport->body_bytes;
        uint64_t now;
        uint64_t wake;

        curl_multi_perform(transport->multi, &running);
        collect(transport);
        /* Body bytes went to on_body: let the caller flush what they produced. */
        if (transport->done || transport->body_bytes != bytes_before)
            break;
        now = acn_now_ns();
        if (transport->stall_timeout_ns > 0 && now - transport->last_byte_ns >= transport->stall_timeout_ns) {
            transport->stalled = 1;
            acn_transport_stop(transport);
            break;
        }
        if (peek_signals(transport) != 0 || now >= deadline_ns)
            break;
        wake = deadline_ns;
        if (transport->stall_timeout_ns > 0 && transport->last_byte_ns + transport->stall_timeout_ns < wake)
            wake = transport->last_byte_ns + transport->stall_timeout_ns;
        curl_multi_poll(transport->multi, NULL, 0,
                        wake - now > 60000000000ull ? 60000 : (int)ns_to_ms_ceil(wake - now), NULL);
    }
    return take_signals(transport);
}

void acn_transport_signal(acn_transport *transport, unsigned bits)
{
    pthread_mutex_lock(&transport->lock);
    transport->signals |= bits;
    if (transport->multi != NULL)
        curl_multi_wakeup(transport->multi);
    pthread_cond_signal(&transport->wake);
    pthread_mutex_unlock(&transport->lock);
}

void acn_transport_stop(acn_transport *transport)
{
    if (transport->added) {
        if (!transport->done) {
            long status = 0;
            long connects = 0;
            curl_easy_getinfo(transport->easy, CURLINFO_RESPONSE_CODE, &status);
            if (status > 0)
                transport->status = (int)status;
            /* A transfer ended early (a lingering response, a cancel) still says
             * whether it opened its connection. */
            curl_easy_getinfo(transport->easy, CURLINFO_NUM_CONNECTS, &connects);
            transport->new_connections = connects;
            index_headers(transport);
        }
        /* Removing an unfinished transfer closes its connection. */
        curl_multi_remove_handle(transport->multi, transport->easy);
        transport->added = 0;
    }
    transport->done = 1;
}

void acn_transport_free(acn_transport *transport)
{
    CURLM *multi;

    if (!transport->lock_ready)
        return;
    acn_transport_stop(transport);
    if (transport->easy != NULL)
        curl_easy_cleanup(transport->easy);
    transport->easy = NULL;
    if (transport->slist != NULL)
        free_headers(transport->slist);
    transport->slist = NULL;
    if (transport->body != NULL) {
        /* The request body holds the conversation. */
        acn_transport_wipe(transport->body, transport->body_len);
        free(transport->body);
    }
    transport->body = NULL;
    pthread_mutex_lock(&transport->lock);
    multi = transport->multi;
    transport->multi = NULL;
    pthread_mutex_unlock(&transport->lock);
    if (multi != NULL)
        return_multi(multi, !transport->owns_multi);
    acn_buf_free(&transport->header_bytes);
    acn_buf_free(&transport->error_body);
    transport->header_count = 0;
    pthread_cond_destroy(&transport->wake);
    pthread_mutex_destroy(&transport->lock);
    transport->lock_ready = 0;
}

size_t acn_transport_memsize(const acn_transport *transport)
{
    return sizeof(*transport) + transport->header_bytes.cap + transport->error_body.cap;
}
