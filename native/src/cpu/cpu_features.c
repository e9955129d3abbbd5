/* Runtime CPU feature detection (cpuid + xgetbv on x86-64; on aarch64 getauxval on Linux, sysctl on
 * macOS) and the kernel
 * level in use. Detection runs once; MOBILELLM_CPU may lower the level at that moment and
 * mllm_cpu_set_level_by_name later. A level above the CPU's is always refused. */
#define _GNU_SOURCE
#include "cpu/cpu_features.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/threads.h"

#if defined(__x86_64__) || defined(_M_X64)
#define MLLM_X86 1
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__)
#define MLLM_ARM 1
#if defined(__linux__)
#include <sys/auxv.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#endif

static mllm_once g_once = MLLM_ONCE_INIT;
static mllm_cpu_level_t g_detected = MLLM_CPU_SCALAR;
static atomic_int g_current = MLLM_CPU_SCALAR;
static int g_has_avx_vnni;
static char g_features[256];

static const struct { const char *name; mllm_cpu_level_t level; } LEVELS[] = {
    {"scalar", MLLM_CPU_SCALAR},         {"avx2", MLLM_CPU_AVX2},
    {"avx512", MLLM_CPU_AVX512},         {"avx512vnni", MLLM_CPU_AVX512VNNI},
    {"amx", MLLM_CPU_AMX},               {"avxvnni", MLLM_CPU_AVXVNNI},
    {"neon", MLLM_CPU_NEON},
    {"neon-dotprod", MLLM_CPU_NEON_DOTPROD},
};

static void add_feature(const char *name) {
    size_t len = strlen(g_features);
    snprintf(g_features + len, sizeof(g_features) - len, "%s%s", len ? " " : "", name);
}

#ifdef MLLM_X86
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* AMX tile data is off by default on Linux; a process must ask the kernel for it once. */
static int request_amx_permission(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
    const int ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return 0;
#endif
}

static mllm_cpu_level_t detect_x86(void) {
    unsigned a, b, c, d;
    unsigned l1c = 0, l7b = 0, l7c = 0, l7d = 0, l71a = 0, max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d)) l1c = c;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        l7b = b; l7c = c; l7d = d;
        unsigned max_sub = a;
        if (max_sub >= 1) { __cpuid_count(7, 1, a, b, c, d); l71a = a; }
    }
    int osxsave = (l1c >> 27) & 1;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;               /* SSE + AVX state saved */
    int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0; /* opmask + ZMM state saved */
    int os_amx = (xcr0 & 0x60000) == 0x60000;        /* XTILECFG + XTILEDATA */

    int sse42 = (l1c >> 20) & 1, avx = os_avx && ((l1c >> 28) & 1);
    int fma = avx && ((l1c >> 12) & 1), f16c = avx && ((l1c >> 29) & 1);
    int avx2 = avx && ((l7b >> 5) & 1);
    int f = os_avx512 && ((l7b >> 16) & 1), dq = os_avx512 && ((l7b >> 17) & 1);
    int bw = os_avx512 && ((l7b >> 30) & 1), vl = os_avx512 && ((l7b >> 31) & 1);
    int vnni = os_avx512 && ((l7c >> 11) & 1), bf16 = os_avx512 && ((l71a >> 5) & 1);
    int amx_tile = os_amx && ((l7d >> 24) & 1), amx_int8 = os_amx && ((l7d >> 25) & 1);
    int amx_ok = amx_tile && amx_int8 && request_amx_permission();
    int avx_vnni = avx2 && ((l71a >> 4) & 1); /* VEX-encoded vpdpbusd on 256-bit registers */

    const struct { int on; const char *name; } list[] = {
        {sse42, "sse4.2"}, {avx, "avx"}, {avx2, "avx2"}, {fma, "fma"}, {f16c, "f16c"}, {avx_vnni, "avx_vnni"},
        {f, "avx512f"}, {bw, "avx512bw"}, {vl, "avx512vl"}, {dq, "avx512dq"},
        {vnni, "avx512_vnni"}, {bf16, "avx512_bf16"}, {amx_tile, "amx-tile"}, {amx_int8, "amx-int8"},
    };
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
        if (list[i].on) add_feature(list[i].name);
    if (amx_tile && !amx_ok) add_feature("(amx-not-permitted)");

    mllm_cpu_level_t lv = MLLM_CPU_SCALAR;
    if (avx2 && fma && f16c) lv = MLLM_CPU_AVX2;
    if (lv == MLLM_CPU_AVX2 && f && bw && vl && dq) lv = MLLM_CPU_AVX512;
    if (lv == MLLM_CPU_AVX512 && vnni) lv = MLLM_CPU_AVX512VNNI;
    if (lv == MLLM_CPU_AVX512VNNI && amx_ok) lv = MLLM_CPU_AMX;
    g_has_avx_vnni = lv >= MLLM_CPU_AVX2 && avx_vnni;
    if (lv == MLLM_CPU_AVX2 && avx_vnni) lv = MLLM_CPU_AVXVNNI; /* the AVX-512 levels have their own vpdpbusd */
    return lv;
}
#endif

#ifdef MLLM_ARM
static mllm_cpu_level_t detect_arm(void) {
    add_feature("neon"); /* mandatory on aarch64 */
    int dotprod = 0;
#if defined(__linux__)
    dotprod = (getauxval(AT_HWCAP) & (1ul << 20)) != 0; /* HWCAP_ASIMDDP */
#elif defined(__APPLE__)
    int v = 0;
    size_t len = sizeof v;
    dotprod = sysctlbyname("hw.optional.arm.FEAT_DotProd", &v, &len, NULL, 0) == 0 && v;
#endif
    if (dotprod) {
        add_feature("dotprod");
        return MLLM_CPU_NEON_DOTPROD;
    }
    return MLLM_CPU_NEON;
}
#endif

static int level_by_name(const char *name, mllm_cpu_level_t *out) {
    for (size_t i = 0; i < sizeof(LEVELS) / sizeof(LEVELS[0]); i++) {
        if (strcmp(LEVELS[i].name, name) == 0) { *out = LEVELS[i].level; return 0; }
    }
    return -1;
}

static void init_once(void);

/* Scalar runs everywhere; avx2 .. amx are ordered, avxvnni needs AVX-VNNI (and is above avx2 only);
 * neon levels only on arm. */
static int level_allowed(mllm_cpu_level_t want) {
    if (want == MLLM_CPU_SCALAR) return 1;
    if (want == MLLM_CPU_AVXVNNI) return g_has_avx_vnni;
    const mllm_cpu_level_t top = g_detected == MLLM_CPU_AVXVNNI ? MLLM_CPU_AVX2 : g_detected;
    int want_arm = want >= MLLM_CPU_NEON, have_arm = top >= MLLM_CPU_NEON;
    return want_arm == have_arm && want <= top;
}

int mllm_cpu_level_supported(mllm_cpu_level_t level) {
    mllm_once_run(&g_once, init_once);
    return level_allowed(level);
}

int mllm_cpu_level_is_x86_simd(mllm_cpu_level_t level) {
    return (level >= MLLM_CPU_AVX2 && level <= MLLM_CPU_AMX) || level == MLLM_CPU_AVXVNNI;
}

static void init_once(void) {
#if defined(MLLM_X86)
    g_detected = detect_x86();
#elif defined(MLLM_ARM)
    g_detected = detect_arm();
#endif
    atomic_store(&g_current, g_detected);
    const char *env = getenv("MOBILELLM_CPU");
    if (env && *env) {
        mllm_cpu_level_t lv;
        if (level_by_name(env, &lv) != 0 || !level_allowed(lv))
            fprintf(stderr, "mobilellm: MOBILELLM_CPU=%s is %s; using %s\n", env,
                    level_by_name(env, &lv) != 0 ? "not a known level" : "not supported by this CPU",
                    mllm_cpu_level_name(g_detected));
        else
            atomic_store(&g_current, lv);
    }
}

mllm_cpu_level_t mllm_cpu_detect(void) {
    mllm_once_run(&g_once, init_once);
    return g_detected;
}

mllm_cpu_level_t mllm_cpu_current(void) {
    mllm_once_run(&g_once, init_once);
    return (mllm_cpu_level_t)atomic_load_explicit(&g_current, memory_order_relaxed);
}

int mllm_cpu_set_level_by_name(const char *name) {
    mllm_once_run(&g_once, init_once);
    mllm_cpu_level_t lv;
    if (!name || level_by_name(name, &lv) != 0 || !level_allowed(lv)) return -1;
    atomic_store(&g_current, lv);
    return 0;
}

const char *mllm_cpu_level_name(mllm_cpu_level_t level) {
    for (size_t i = 0; i < sizeof(LEVELS) / sizeof(LEVELS[0]); i++)
        if (LEVELS[i].level == level) return LEVELS[i].name;
    return "unknown";
}

const char *mllm_cpu_feature_string(void) {
    mllm_once_run(&g_once, init_once);
    return g_features;
}
