/*
 * throttle.h: when to hand accumulated text to Ruby. A pure function of monotonic
 * time in nanoseconds: the first delta flushes at once, later deltas at most once
 * per interval, and a block end, a tool call's start and the stream's end always
 * flush. Owns nothing; the caller keeps the state struct.
 */
#ifndef ACN_THROTTLE_H
#define ACN_THROTTLE_H

#include <stdint.h>

typedef enum acn_flush_reason {
    ACN_FLUSH_DELTA = 0,  /* new text or thinking arrived */
    ACN_FLUSH_BLOCK_END,  /* a text or thinking block ended */
    ACN_FLUSH_TOOL_CALL,  /* a tool call started: show the text before its status line */
    ACN_FLUSH_STREAM_END, /* the stream ended, however it ended */
    ACN_FLUSH_TIMER       /* no new bytes, but pending text has waited a whole interval */
} acn_flush_reason;

typedef struct acn_throttle {
    uint64_t interval_ns;
    uint64_t last_flush_ns;
    int flushed; /* at least one flush happened */
    int pending; /* a delta arrived since the last flush */
} acn_throttle;

void acn_throttle_init(acn_throttle *throttle, uint64_t interval_ns);
/* Records that something arrived (for DELTA) and answers whether to flush now. */
int acn_throttle_should_flush(acn_throttle *throttle, acn_flush_reason reason, uint64_t now_ns);
/* Records a flush made at now_ns: pending is cleared and the interval restarts. */
void acn_throttle_flushed(acn_throttle *throttle, uint64_t now_ns);
/* When pending text must be flushed if nothing else arrives (UINT64_MAX when nothing is
 * pending): a stream's poll loop waits no longer than this. */
uint64_t acn_throttle_deadline(const acn_throttle *throttle);

#endif
