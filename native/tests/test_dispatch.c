/*
 * test_dispatch.c — the dispatcher's caches under concurrent first use.
 *
 * Usage: test_dispatch [THREADS]
 * Starts THREADS threads (default 8) that wait on a barrier and then all ask for the selected label
 * and AES implementations and their functions at once — the first call on each thread races the
 * others to fill the caches. Every thread must see the same answers as a later single-threaded
 * call. Built with -fsanitize=thread (make tsan) this is the data-race check of dispatch.c; the
 * plain builds run it as an agreement test. Prints "dispatch ok THREADS" and exits 0 iff all agree.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

typedef struct {
    pthread_barrier_t *start;
    int labels, aes;
    sp_labels_fn labels_fn;
    sp_scan_fn scan_fn;
} seen;

static void *ask(void *arg) {
    seen *s = arg;
    pthread_barrier_wait(s->start);
    s->labels = sp_labels_selected();
    s->aes = sp_aes_selected();
    s->labels_fn = sp_dispatch_labels(SP_LABELS_AUTO);
    s->scan_fn = sp_dispatch_scan(SP_AES_AUTO);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 8;
    if (threads < 2 || threads > 256) {
        fprintf(stderr, "usage: test_dispatch [THREADS in 2..256]\n");
        return 2;
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    seen *got = calloc((size_t)threads, sizeof *got);
    if (!tid || !got) return 2;
    for (int i = 0; i < threads; i++) {
        got[i].start = &start;
        if (pthread_create(&tid[i], NULL, ask, &got[i]) != 0) return 2;
    }
    for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    int failures = 0;
    for (int i = 0; i < threads; i++) {
        if (got[i].labels != sp_labels_selected() || got[i].aes != sp_aes_selected() ||
            got[i].labels_fn != sp_dispatch_labels(SP_LABELS_AUTO) || got[i].scan_fn != sp_dispatch_scan(SP_AES_AUTO) ||
            !got[i].labels_fn || !got[i].scan_fn) {
            fprintf(stderr, "thread %d disagrees: labels %d aes %d\n", i, got[i].labels, got[i].aes);
            failures++;
        }
    }
    pthread_barrier_destroy(&start);
    free(tid);
    free(got);
    if (failures) return 1;
    printf("dispatch ok %d\n", threads);
    return 0;
}
