/* throttle.c: flush decisions as a pure function of monotonic time (throttle.h). */
#include "throttle.h"

void acn_throttle_init(acn_throttle *throttle, uint64_t interval_ns)
{
    throttle->interval_ns = interval_ns;
    throttle->last_flush_ns = 0;
    throttle->flushed = 0;
    throttle->pending = 0;
}

static int interval_passed(const acn_throttle *throttle, uint64_t now_ns)
{
    return now_ns >= throttle->last_flush_ns && now_ns - throttle->last_flush_ns >= throttle->interval_ns;
}

int acn_throttle_should_flush(acn_throttle *throttle, acn_flush_reason reason, uint64_t now_ns)
{
    switch (reason) {
    case ACN_FLUSH_DELTA:
        throttle->pending = 1;
        /* The first delta goes out at once: time to first token is what users feel. */
        return !throttle->flushed || interval_passed(throttle, now_ns);
    case ACN_FLUSH_TIMER: return throttle->pending && interval_passed(throttle, now_ns);
    case ACN_FLUSH_BLOCK_END:
    case ACN_FLUSH_TOOL_CALL:
    case ACN_FLUSH_STREAM_END: return throttle->pending;
    }
    return 0;
}

void acn_throttle_flushed(acn_throttle *throttle, uint64_t now_ns)
{
    throttle->last_flush_ns = now_ns;
    throttle->flushed = 1;
    throttle->pending = 0;
}

uint64_t acn_throttle_deadline(const acn_throttle *throttle)
{
    if (!throttle->pending)
        return UINT64_MAX;
    if (throttle->last_flush_ns > UINT64_MAX - throttle->interval_ns)
        return UINT64_MAX;
    return throttle->last_flush_ns + throttle->interval_ns;
}
