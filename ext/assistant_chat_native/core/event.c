/* event.c: the names of the normalized event types and stop reasons (event.h), one
 * table each, shared by the C tests and the Ruby binding. */
#include "event.h"

static const char *const event_type_names[ACN_EVENT_TYPE_COUNT] = {"message_start",
                                                                   "text_delta",
                                                                   "thinking_delta",
                                                                   "signature_delta",
                                                                   "redacted_thinking",
                                                                   "citation",
                                                                   "tool_call_start",
                                                                   "tool_args_delta",
                                                                   "tool_call_end",
                                                                   "block_end",
                                                                   "usage",
                                                                   "stop",
                                                                   "done",
                                                                   "error",
                                                                   "ping"};

/* Indexed by acn_stop_reason; NONE has no name. */
static const char *const stop_reason_names[] = {
    NULL, "end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal", "pause_turn"};

const char *acn_event_type_name(acn_event_type type)
{
    if ((unsigned)type >= ACN_EVENT_TYPE_COUNT)
        return "unknown";
    return event_type_names[type];
}

const char *acn_stop_reason_name(acn_stop_reason reason)
{
    if ((unsigned)reason >= sizeof stop_reason_names / sizeof stop_reason_names[0])
        return NULL;
    return stop_reason_names[reason];
}
