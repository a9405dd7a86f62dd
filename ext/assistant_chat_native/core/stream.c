/* stream.c: transport -> decoder -> accumulator -> throttle -> callbacks
 * (stream.h). */
#include "stream.h"

#include "classify.h"
#include "decode.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* After the terminal event, how long to wait for the response itself to end. */
#define LINGER_NS 1000000000ull
/* The longest a coalescing wait leaves bytes unread (stall detection waits on it). */
#define COALESCE_MAX_NS 100000000ull

static double seconds_between(uint64_t from_ns, uint64_t to_ns)
{
    return to_ns > from_ns ? (double)(to_ns - from_ns) / 1e9 : 0.0;
}

/* ---- bytes in ---- */

static int on_event(void *ctx, const acn_event *event)
{
    acn_stream *stream = ctx;

    stream->events++;
    switch (event->type) {
    case ACN_EVENT_TEXT_DELTA:
    case ACN_EVENT_THINKING_DELTA:
    case ACN_EVENT_TOOL_CALL_START:
        if (stream->first_token_ns == 0)
            stream->first_token_ns = acn_now_ns();
        break;
    case ACN_EVENT_BLOCK_END:
    case ACN_EVENT_TOOL_CALL_END:
    case ACN_EVENT_STOP:
    case ACN_EVENT_DONE: stream->block_ended = 1; break;
    default: break;
    }
    return acn_accum_on_event(&stream->accum, event);
}

static int on_body(void *ctx, const char *data, size_t len)
{
    acn_stream *stream = ctx;
    acn_status status;

    if (stream->decoder_status != ACN_OK)
        return 1;
    status = acn_decoder_feed(stream->decoder, data, len);
    if (status != ACN_OK) {
        stream->decoder_status = status;
        return 1;
    }
    return 0;
}

/* ---- lifecycle ---- */

acn_status acn_stream_init(acn_stream *stream, const acn_stream_config *config,
                           const acn_stream_callbacks *callbacks, void *ctx)
{
    acn_status status;

    memset(stream, 0, sizeof(*stream));
    stream->provider = config->provider;
    if (callbacks != NULL)
        stream->callbacks = *callbacks;
    stream->ctx = ctx;
    stream->heartbeat_interval_ns = config->heartbeat_interval_ns;
    stream->cancel_poll_interval_ns = config->cancel_poll_interval_ns;
    acn_accum_init(&stream->accum, config->max_reply_bytes);
    acn_throttle_init(&stream->throttle, config->broadcast_interval_ns);
    stream->decoder = calloc(1, sizeof(*stream->decoder));
    if (stream->decoder == NULL) {
        acn_accum_free(&stream->accum);
        return ACN_ERR_NOMEM;
    }
    status = acn_decoder_init(stream->decoder, config->provider,
                              config->max_event_bytes ? config->max_event_bytes : ACN_DEFAULT_MAX_EVENT_BYTES,
                              on_event, stream);
    if (status == ACN_OK)
        status = acn_transport_init(&stream->transport, &config->request, on_body, stream);
    else
        memset(&stream->transport, 0, sizeof(stream->transport));
    if (status == ACN_OK) /* an error body is held instead of events: one budget for both */
        acn_buf_share(&stream->transport.error_body, &stream->decoder->budget);
    if (status != ACN_OK) {
        acn_decoder_free(stream->decoder);
        free(stream->decoder);
        stream->decoder = NULL;
        acn_accum_free(&stream->accum);
        return status;
    }
    return ACN_OK;
}

void acn_stream_free(acn_stream *stream)
{
    if (stream->decoder == NULL)
        return;
    acn_transport_free(&stream->transport);
    acn_decoder_free(stream->decoder);
    free(stream->decoder);
    stream->decoder = NULL;
    acn_accum_free(&stream->accum);
}

size_t acn_stream_memsize(const acn_stream *stream)
{
    size_t size = sizeof(*stream);

    if (stream->decoder == NULL)
        return size;
    /* The decoder's budget counts the error body too: the transport's share is
     * taken out once. */
    return size + sizeof(*stream->decoder) + stream->decoder->budget.used +
           acn_transport_memsize(&stream->transport) - stream->transport.error_body.cap +
           acn_accum_memsize(&stream->accum);
}

void acn_stream_pause(acn_stream *stream)
{
    stream->pause_requested = 1;
}

void acn_stream_cancel(acn_stream *stream)
{
    acn_transport_signal(&stream->transport, ACN_TRANSPORT_SIGNAL_CANCEL);
}

void acn_stream_interrupt(acn_stream *stream)
{
    acn_transport_signal(&stream->transport, ACN_TRANSPORT_SIGNAL_INTERRUPT);
}

void acn_stream_get_stats(const acn_stream *stream, acn_stream_stats *out)
{
    const acn_transport *transport = &stream->transport;
    uint64_t end = stream->finished_ns ? stream->finished_ns : acn_now_ns();

    memset(out, 0, sizeof(*out));
    out->status = transport->status;
    out->time_to_first_byte =
        transport->first_byte_ns ? seconds_between(stream->started_ns, transport->first_byte_ns) : -1.0;
    out->time_to_first_token =
        stream->first_token_ns ? seconds_between(stream->started_ns, stream->first_token_ns) : -1.0;
    out->duration = stream->started_ns ? seconds_between(stream->started_ns, end) : 0.0;
    out->bytes = transport->body_bytes;
    out->events = stream->events;
    out->flushes = stream->flushes;
    out->new_connections = transport->new_connections;
}

/* ---- the end of the transfer: what went wrong, if anything ---- */

static void set_transport_failure(acn_stream *stream, acn_transport_error error, const char *detail)
{
    acn_classify_input input;
    acn_failure failure;

    memset(&input, 0, sizeof(input));
    input.provider = stream->provider;
    input.status = stream->transport.status;
    input.headers = stream->transport.headers;
    input.header_count = stream->transport.header_count;
    input.transport_error = error;
    input.curl_code = stream->transport.curl_code;
    input.transport_detail = detail;
    input.streamed = stream->flushes > 0;
    input.now = (double)time(NULL);
    acn_classify(&input, &failure);
    acn_accum_set_failure(&stream->accum, &failure);
}

static void set_http_failure(acn_stream *stream)
{
    const acn_transport *transport = &stream->transport;
    acn_classify_input input;
    acn_failure failure;

    memset(&input, 0, sizeof(input));
    input.provider = stream->provider;
    input.status = transport->status;
    input.headers = transport->headers;
    input.header_count = transport->header_count;
    input.body = transport->error_body.ptr;
    input.body_len = transport->error_body.len;
    input.now = (double)time(NULL);
    acn_classify(&input, &failure);
    acn_accum_set_failure(&stream->accum, &failure);
}

/* Decides the reply's failure once the transfer is over. */
static void conclude(acn_stream *stream)
{
    acn_transport *transport = &stream->transport;
    int http_ok = transport->status >= 200 && transport->status < 300;
    int whole = stream->decoder_status == ACN_OK && acn_decoder_done(stream->decoder);

    if (stream->cancelled || stream->stopped) {
        set_transport_failure(stream, ACN_TRANSPORT_CANCELLED,
                              stream->stopped ? "the stream was stopped by its handler" : NULL);
    } else if (transport->status > 0 && !http_ok) {
        set_http_failure(stream);
    } else if (transport->stalled && !whole) {
        set_transport_failure(stream, ACN_TRANSPORT_STALLED, "no byte arrived for the stall timeout");
    } else if (transport->curl_code != 0 && !transport->aborted && !whole) {
        set_transport_failure(stream, ACN_TRANSPORT_NONE, transport->error_text);
    }
    /* Decoder limits and malformed input, a missing terminal event, mid-stream
     * errors and refusals are the accumulator's to decide. */
    if (http_ok && stream->decoder_status == ACN_OK) {
        acn_status status = acn_decoder_finish(stream->decoder);
        if (status != ACN_OK)
            stream->decoder_status = status;
    }
    acn_accum_finish(&stream->accum, stream->provider, acn_decoder_done(stream->decoder),
                     stream->decoder_status == ACN_ERR_ABORTED ? ACN_OK : stream->decoder_status,
                     acn_decoder_error(stream->decoder), stream->flushes > 0);
}

/* ---- delivering to the callbacks, one at a time ---- */

typedef enum delivery { NOTHING_DUE = 0, DELIVERED } delivery;

static int call_flush(acn_stream *stream, int thinking, int final)
{
    acn_accum_chunk chunk;
    int (*callback)(void *, const acn_accum_chunk *) =
        thinking ? stream->callbacks.on_thinking : stream->callbacks.on_text;
    int any = thinking ? acn_accum_flush_thinking(&stream->accum, final, &chunk)
                       : acn_accum_flush_text(&stream->accum, final, &chunk);

    if (!any || callback == NULL)
        return 0;
    stream->flushes++;
    return callback(stream->ctx, &chunk);
}

/* Runs at most one callback that is due. Sets *result to its answer. A loop, not
 * recursion: deciding a flush, skipping calls nobody listens for and the final
 * flush each go round again, however many tool calls are pending. */
static delivery deliver_one(acn_stream *stream, uint64_t now, int *result)
{
    acn_accum *accum = &stream->accum;

    *result = 0;
    for (;;) {
        int pending;

        if (stream->flush_thinking_now) {
            stream->flush_thinking_now = 0;
            *result = call_flush(stream, 1, stream->closing);
            return DELIVERED;
        }
        if (stream->flush_text_now) {
            stream->flush_text_now = 0;
            *result = call_flush(stream, 0, stream->closing);
            return DELIVERED;
        }
        pending = acn_accum_text_pending(accum) || acn_accum_thinking_pending(accum);
        if (pending) {
            int due = acn_throttle_should_flush(&stream->throttle, ACN_FLUSH_DELTA, now);
            if (!due && accum->announced < accum->call_count)
                due = acn_throttle_should_flush(&stream->throttle, ACN_FLUSH_TOOL_CALL, now);
            if (!due && stream->block_ended)
                due = acn_throttle_should_flush(&stream->throttle, ACN_FLUSH_BLOCK_END, now);
            if (due) {
                acn_throttle_flushed(&stream->throttle, now);
                stream->block_ended = 0;
                stream->flush_thinking_now = 1;
                stream->flush_text_now = 1;
                continue;
            }
        } else {
            stream->block_ended = 0;
        }
        if (accum->announced < accum->call_count) {
            const acn_accum_tool_call *call = &accum->calls[accum->announced++];
            if (stream->callbacks.on_tool_call == NULL)
                continue;
            *result = stream->callbacks.on_tool_call(stream->ctx, call);
            return DELIVERED;
        }
        if (stream->closing && !stream->final_flushed) {
            /* The final flush hands out everything, even an incomplete trailing
             * character. */
            stream->final_flushed = 1;
            stream->flush_thinking_now = 1;
            stream->flush_text_now = 1;
            continue;
        }
        break;
    }
    if (stream->closing)
        return NOTHING_DUE;
    if (stream->callbacks.on_heartbeat != NULL && stream->heartbeat_interval_ns > 0 &&
        now >= stream->next_heartbeat_ns) {
        stream->next_heartbeat_ns = now + stream->heartbeat_interval_ns;
        *result = stream->callbacks.on_heartbeat(stream->ctx, seconds_between(stream->started_ns, now));
        return DELIVERED;
    }
    if (stream->callbacks.on_cancel_poll != NULL && stream->cancel_poll_interval_ns > 0 &&
        now >= stream->next_cancel_poll_ns) {
        stream->next_cancel_poll_ns = now + stream->cancel_poll_interval_ns;
        if (stream->callbacks.on_cancel_poll(stream->ctx) != 0)
            stream->cancelled = 1;
        return DELIVERED;
    }
    return NOTHING_DUE;
}

/* The nearest moment something is due while no byte arrives. */
static uint64_t next_deadline(const acn_stream *stream)
{
    uint64_t deadline = acn_throttle_deadline(&stream->throttle);

    if (stream->callbacks.on_heartbeat != NULL && stream->heartbeat_interval_ns > 0 &&
        stream->next_heartbeat_ns < deadline)
        deadline = stream->next_heartbeat_ns;
    if (stream->callbacks.on_cancel_poll != NULL && stream->cancel_poll_interval_ns > 0 &&
        stream->next_cancel_poll_ns < deadline)
        deadline = stream->next_cancel_poll_ns;
    if (stream->linger_until_ns != 0 && stream->linger_until_ns < deadline)
        deadline = stream->linger_until_ns;
    return deadline;
}

static void close_transfer(acn_stream *stream)
{
    acn_transport_stop(&stream->transport);
    stream->closing = 1;
    conclude(stream);
}

/* The moment the throttle will next allow a flush (0 before the first flush: time to
 * first token is never delayed). */
static uint64_t next_flush_allowed(const acn_stream *stream)
{
    const acn_throttle *throttle = &stream->throttle;

    if (!throttle->flushed || throttle->last_flush_ns > UINT64_MAX - throttle->interval_ns)
        return 0;
    return throttle->last_flush_ns + throttle->interval_ns;
}

/* Whether the next bytes can wait in the socket until the throttle allows the next
 * flush: the first flush has gone out, that moment is still ahead, and nothing else
 * would want the bytes sooner. Text need not be pending yet: right after a flush, the
 * next delta could not be flushed before then anyway, so waking for it would only
 * cost a second wake-up per interval. One wake-up per broadcast interval then reads
 * everything that came, instead of one per network read. */
static int can_coalesce(acn_stream *stream, uint64_t now)
{
    return next_flush_allowed(stream) > now && stream->accum.announced == stream->accum.call_count &&
           !acn_decoder_done(stream->decoder) && stream->transport.added && !stream->transport.done;
}

/* Applies what acn_transport_signal sent; returns 1 when acn_stream_run must return. */
static int take_signals(acn_stream *stream, unsigned signals)
{
    if (signals & ACN_TRANSPORT_SIGNAL_CANCEL)
        stream->cancelled = 1;
    if (signals & ACN_TRANSPORT_SIGNAL_INTERRUPT) {
        stream->interrupted = 1;
        return 1;
    }
    return 0;
}

acn_stream_state acn_stream_run(acn_stream *stream)
{
    stream->interrupted = 0;
    if (!stream->started) {
        stream->started = 1;
        stream->started_ns = acn_now_ns();
        stream->next_heartbeat_ns = stream->started_ns + stream->heartbeat_interval_ns;
        stream->next_cancel_poll_ns = stream->started_ns + stream->cancel_poll_interval_ns;
    }
    while (!stream->finished) {
        uint64_t now = acn_now_ns();
        int result;

        if (!stream->closing && (stream->cancelled || stream->stopped)) {
            close_transfer(stream);
            continue;
        }
        if (stream->drain_now && !stream->closing && !stream->transport.done) {
            /* Back from a coalescing wait: read what came before deciding any flush. */
            stream->drain_now = 0;
            if (take_signals(stream, acn_transport_step(&stream->transport, 0)))
                return ACN_STREAM_PAUSED;
            continue;
        }
        if (deliver_one(stream, now, &result) == DELIVERED) {
            if (result != 0 && !stream->closing)
                stream->stopped = 1;
            if (stream->pause_requested) {
                stream->pause_requested = 0;
                return ACN_STREAM_PAUSED;
            }
            continue;
        }
        if (stream->closing) {
            stream->finished = 1;
            stream->finished_ns = acn_now_ns();
            break;
        }
        if (stream->transport.done) {
            close_transfer(stream);
            continue;
        }
        if (stream->linger_until_ns == 0 && acn_decoder_done(stream->decoder))
            stream->linger_until_ns = now + LINGER_NS;
        if (stream->linger_until_ns != 0 && now >= stream->linger_until_ns) {
            close_transfer(stream); /* the reply is whole; the server kept the response open */
            continue;
        }
        if (can_coalesce(stream, now)) {
            uint64_t until = next_deadline(stream);
            if (next_flush_allowed(stream) < until)
                until = next_flush_allowed(stream);
            if (until - now > COALESCE_MAX_NS)
                until = now + COALESCE_MAX_NS;
            stream->drain_now = 1;
            if (take_signals(stream, acn_transport_idle(&stream->transport, until)))
                return ACN_STREAM_PAUSED;
            continue;
        }
        if (take_signals(stream, acn_transport_step(&stream->transport, next_deadline(stream))))
            return ACN_STREAM_PAUSED;
    }
    return ACN_STREAM_FINISHED;
}
