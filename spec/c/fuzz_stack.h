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
#include <stdint.h>
#include <stdlib.h>

#define FUZZ_STACK_SIZE ((size_t)256 * 1024)

/*
 * One worker thread, started on the first input and kept: a thread per input
 * would grow AddressSanitizer's thread registry by every thread ever made, and a
 * campaign of millions of inputs would run out of memory on that alone.
 */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int started;
    void (*fn)(void *); /* the work waiting to run, NULL when there is none */
    void *arg;
    int done;
} fuzz_stack = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL, NULL, 0};

static void *fuzz_stack_worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&fuzz_stack.lock);
    for (;;) {
        void (*fn)(void *);
        void *arg;

        while (fuzz_stack.fn == NULL)
            pthread_cond_wait(&fuzz_stack.changed, &fuzz_stack.lock);
        fn = fuzz_stack.fn;
        arg = fuzz_stack.arg;
        pthread_mutex_unlock(&fuzz_stack.lock);
        fn(arg);
        pthread_mutex_lock(&fuzz_stack.lock);
        fuzz_stack.fn = NULL;
        fuzz_stack.done = 1;
        pthread_cond_broadcast(&fuzz_stack.changed);
    }
    return NULL;
}

static void fuzz_on_small_stack(void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&fuzz_stack.lock);
    if (!fuzz_stack.started) {
        pthread_attr_t attr;
        pthread_t thread;

        if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, FUZZ_STACK_SIZE) != 0 ||
            pthread_create(&thread, &attr, fuzz_stack_worker, NULL) != 0 || pthread_detach(thread) != 0)
            abort();
        pthread_attr_destroy(&attr);
        fuzz_stack.started = 1;
    }
    fuzz_stack.fn = fn;
    fuzz_stack.arg = arg;
    fuzz_stack.done = 0;
    pthread_cond_broadcast(&fuzz_stack.changed);
    while (!fuzz_stack.done)
        pthread_cond_wait(&fuzz_stack.changed, &fuzz_stack.lock);
    pthread_mutex_unlock(&fuzz_stack.lock);
}

/* One fuzz input, as handed to the work run on the small stack. */
typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
} fuzz_input;

/* A target's LLVMFuzzerTestOneInput: runs fn on a non-empty input's fuzz_input. */
static int fuzz_input_on_small_stack(void (*fn)(void *), const uint8_t *data, size_t size)
{
    fuzz_input in;

    if (size < 1)
        return 0;
    in.data = data;
    in.size = size;
    fuzz_on_small_stack(fn, &in);
    return 0;
}

#endif
