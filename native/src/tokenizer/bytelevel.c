#include "tokenizer/bytelevel.h"

static int is_self(uint32_t b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t mllm_bytelevel_char(uint8_t b) {
    if (is_self(b)) return b;
    uint32_t k = 0; /* how many stand-in bytes come before b */
    for (uint32_t x = 0; x < b; x++) k += !is_self(x);
    return 0x100 + k;
}

int mllm_bytelevel_byte(uint32_t cp) {
    if (cp < 0x100) return is_self(cp) ? (int)cp : -1;
    if (cp > 0x143) return -1;
    uint32_t k = cp - 0x100;
    for (uint32_t x = 0; x < 256; x++) {
        if (!is_self(x) && k-- == 0) return (int)x;
    }
    return -1;
}
