/*
 * fuzz_stack.h: runs a fuzz target's work on a thread with a small machine stack.
 *
 * A Ruby thread (a Sidekiq processor, say) gives C code about 1 MiB of machine
 * stack, part of it already used by Ruby; libFuzzer runs inputs on the main
 * thread's 8 MiB. On FUZZ_STACK_SIZE, code that recurses once per nesting level of
 * its input overflows within the inputs the fuzzer tries (-max_len), and
 * AddressSanitizer reports the overflow, where on 8 MiB it would pass unseen.
 */
#ifndef FUZZ_STACK_H
#define FUZZ_STACK_H

#include <pthread.h>
#include <stdlib.h>

#define FUZZ_STACK_SIZE ((size_t)256 * 1024)

typedef struct fuzz_stack_call {
    void (*fn)(void *);
    void *arg;
} fuzz_stack_call;

static void *fuzz_stack_trampoline(void *arg)
{
    fuzz_stack_call *call = arg;
    call->fn(call->arg);
    return NULL;
}

static void fuzz_on_small_stack(void (*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t thread;
    fuzz_stack_call call;

    call.fn = fn;
    call.arg = arg;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, FUZZ_STACK_SIZE) != 0 ||
        pthread_create(&thread, &attr, fuzz_stack_trampoline, &call) != 0)
        abort();
    pthread_attr_destroy(&attr);
    if (pthread_join(thread, NULL) != 0)
        abort();
}

#endif
