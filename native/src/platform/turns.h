/* Taking turns in arrival order: a ticket lock (mutex + condition variable) for callers on several
 * threads that must run one at a time, none overtaking another (turns.c, on the threads of
 * threads.h). */
#ifndef MLLM_PLATFORM_TURNS_H
#define MLLM_PLATFORM_TURNS_H
#include "platform/threads.h"

typedef struct mllm_turns {
    mllm_mutex lock;
    mllm_cond turn;
    unsigned next, serving; /* ticket `next` is handed out on arrival; the holder of `serving` runs */
} mllm_turns;

/* 0 on success. */
int mllm_turns_init(mllm_turns *t);
void mllm_turns_destroy(mllm_turns *t);
/* Waits until every caller that arrived before has ended its turn. */
void mllm_turns_take(mllm_turns *t);
void mllm_turns_end(mllm_turns *t);
#endif
