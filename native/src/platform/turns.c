/* Ticket lock of turns.h. */
#include "platform/turns.h"

int mllm_turns_init(mllm_turns *t) {
    t->next = t->serving = 0;
    if (mllm_mutex_init(&t->lock) != 0) return -1;
    if (mllm_cond_init(&t->turn) != 0) {
        mllm_mutex_destroy(&t->lock);
        return -1;
    }
    return 0;
}

void mllm_turns_destroy(mllm_turns *t) {
    mllm_cond_destroy(&t->turn);
    mllm_mutex_destroy(&t->lock);
}

void mllm_turns_take(mllm_turns *t) {
    mllm_mutex_lock(&t->lock);
    const unsigned ticket = t->next++;
    while (t->serving != ticket) mllm_cond_wait(&t->turn, &t->lock);
    mllm_mutex_unlock(&t->lock);
}

void mllm_turns_end(mllm_turns *t) {
    mllm_mutex_lock(&t->lock);
    t->serving++;
    mllm_cond_broadcast(&t->turn);
    mllm_mutex_unlock(&t->lock);
}
