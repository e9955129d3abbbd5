/* CPU detection against the kernel's own view (/proc/cpuinfo flags on Linux), the
 * MOBILELLM_CPU variable (read once, in child processes so each starts fresh), and the public
 * level API's refusals. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <process.h>
#include <windows.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "mobilellm.h"
#include "util/test_check.h"


static const char *detected_name(void) { return mllm_cpu_level_name(mllm_cpu_detect()); }

/* Child checks: exit status 0 = pass. */
static int env_lowers_to_scalar(void) {
    if (strcmp(mllm_cpu_level(), "scalar") != 0) return 1;
    /* The variable lowers the level; it may be raised again, but only up to the CPU's. */
    if (mllm_set_cpu_level(detected_name()) != MLLM_OK) return 2;
    return strcmp(mllm_cpu_level(), detected_name()) == 0 ? 0 : 3;
}

/* Unknown or too-high values are refused (with a warning) and the detected level stays. */
static int env_ignored(void) { return strcmp(mllm_cpu_level(), detected_name()) == 0 ? 0 : 1; }

/* MOBILELLM_CPU=avx2 is taken as is where the CPU has AVX2, refused otherwise. */
static int env_avx2(void) {
    const char *want = mllm_cpu_level_is_x86_simd(mllm_cpu_detect()) ? "avx2" : detected_name();
    return strcmp(mllm_cpu_level(), want) == 0 ? 0 : 1;
}

enum { ENV_LOWERS_TO_SCALAR, ENV_IGNORED, ENV_AVX2 };
static int (*const CHILD_CHECKS[])(void) = {env_lowers_to_scalar, env_ignored, env_avx2};

/* Runs CHILD_CHECKS[which] in a fresh child whose environment has MOBILELLM_CPU=value (or unset
 * if NULL); returns the child's exit status. */
static int in_child(const char *value, int which) {
    fflush(NULL);
#if defined(_WIN32)
    /* No fork: the child is this program again, told by its arguments which check to run. An
     * empty value removes a variable on Windows. */
    char self[MAX_PATH], arg[16], saved[256] = "";
    if (GetModuleFileNameA(NULL, self, sizeof self) == 0) return 100;
    const char *outer = getenv("MOBILELLM_CPU");
    if (outer) snprintf(saved, sizeof saved, "%s", outer);
    snprintf(arg, sizeof arg, "%d", which);
    _putenv_s("MOBILELLM_CPU", value ? value : "");
    intptr_t status = _spawnl(_P_WAIT, self, "test_cpu_levels", "--child", arg, (char *)NULL);
    _putenv_s("MOBILELLM_CPU", saved);
    return status < 0 ? 100 : (int)status;
#else
    pid_t pid = fork(); /* no exec: under qemu-user a child could not start a foreign binary */
    if (pid == 0) {
        if (value) setenv("MOBILELLM_CPU", value, 1);
        else unsetenv("MOBILELLM_CPU");
        _exit(CHILD_CHECKS[which]());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
#endif
}

#if defined(__linux__) && defined(__x86_64__)
static int cpuinfo_has(const char *flags, const char *name) {
    size_t n = strlen(name);
    for (const char *p = flags; (p = strstr(p, name)) != NULL; p += n)
        if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == 0)) return 1;
    return 0;
}

static int feature_has(const char *name) { return cpuinfo_has(mllm_cpu_features(), name); }

static void check_against_cpuinfo(void) {
    if (getenv("MLLM_EMULATED_CPU")) { /* set by ci/test-x86-levels.sh for qemu-x86_64 -cpu ... */
        printf("  (emulated CPU: /proc/cpuinfo describes the host, cross-check skipped)\n");
        return;
    }
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) { printf("  (no /proc/cpuinfo: cross-check skipped)\n"); return; }
    static char line[8192];
    int found = 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "flags", 5) == 0) { found = 1; break; }
    fclose(f);
    if (!found) return;
    const char *flags = strchr(line, ':');
    flags = flags ? flags + 1 : line;
    /* Our name -> the kernel's name. */
    static const char *pairs[][2] = {
        {"avx2", "avx2"}, {"fma", "fma"}, {"f16c", "f16c"}, {"avx512f", "avx512f"},
        {"avx512bw", "avx512bw"}, {"avx512vl", "avx512vl"}, {"avx512dq", "avx512dq"},
        {"avx512_vnni", "avx512_vnni"}, {"avx512_bf16", "avx512_bf16"}, {"amx-tile", "amx_tile"},
        {"amx-int8", "amx_int8"}, {"avx_vnni", "avx_vnni"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        CHECK(feature_has(pairs[i][0]) == cpuinfo_has(flags, pairs[i][1]), "%s: ours %d, kernel %d",
              pairs[i][0], feature_has(pairs[i][0]), cpuinfo_has(flags, pairs[i][1]));
    mllm_cpu_level_t lv = mllm_cpu_detect();
    int avx2 = cpuinfo_has(flags, "avx2") && cpuinfo_has(flags, "fma") && cpuinfo_has(flags, "f16c");
    int avx512 = avx2 && cpuinfo_has(flags, "avx512f") && cpuinfo_has(flags, "avx512bw") &&
                 cpuinfo_has(flags, "avx512vl") && cpuinfo_has(flags, "avx512dq");
    int vnni = avx512 && cpuinfo_has(flags, "avx512_vnni");
    int avx_vnni = avx2 && cpuinfo_has(flags, "avx_vnni");
    CHECK(mllm_cpu_level_is_x86_simd(lv) == avx2, "avx2 level");
    CHECK((lv >= MLLM_CPU_AVX512 && lv <= MLLM_CPU_AMX) == avx512, "avx512 level");
    CHECK((lv >= MLLM_CPU_AVX512VNNI && lv <= MLLM_CPU_AMX) == vnni, "vnni level");
    CHECK((lv == MLLM_CPU_AVXVNNI) == (avx_vnni && !avx512), "avxvnni level (AVX-VNNI without AVX-512)");
    CHECK(mllm_cpu_level_supported(MLLM_CPU_AVXVNNI) == avx_vnni, "avxvnni selectable exactly where the CPU has AVX-VNNI");
}
#endif

/* Every SIMD level up to the CPU's installs its own K-quant dot kernels over the lower level's
 * (so a missing fill call or a file built without its ISA flags shows here, not as a slow path):
 * each level's entries differ from the level below it. test_matmul checks what they compute. */
static void check_k_kernel_tables(mllm_cpu_level_t top) {
    static const int slots[] = {MLLM_KSLOT_Q4_K, MLLM_KSLOT_Q5_K, MLLM_KSLOT_Q6_K};
    const mllm_kernels *prev = mllm_kernels_for(MLLM_CPU_SCALAR);
    int first = top >= MLLM_CPU_NEON ? MLLM_CPU_NEON : MLLM_CPU_AVX2;
    /* AMX adds no K-quant kernels, avxvnni only panels (checked below) */
    int last = top >= MLLM_CPU_NEON ? (int)top : MLLM_CPU_AVX512VNNI;
    for (int s = 0; s < 3; s++) CHECK(prev->dot[slots[s]] != NULL, "scalar K-quant slot %d", slots[s]);
    for (int lv = first; lv <= last && top != MLLM_CPU_SCALAR; lv++) {
        if (!mllm_cpu_level_supported((mllm_cpu_level_t)lv)) continue;
        const mllm_kernels *k = mllm_kernels_for((mllm_cpu_level_t)lv);
        for (int s = 0; s < 3; s++)
            CHECK(k->dot[slots[s]] != prev->dot[slots[s]], "level %s: K-quant slot %d same as the level below",
                  mllm_cpu_level_name((mllm_cpu_level_t)lv), slots[s]);
        prev = k;
    }
    if (mllm_cpu_level_supported(MLLM_CPU_AVXVNNI)) {
        const mllm_kernels *a = mllm_kernels_for(MLLM_CPU_AVX2), *v = mllm_kernels_for(MLLM_CPU_AVXVNNI);
        static const int panels[] = {MLLM_KSLOT_Q4_0, MLLM_KSLOT_Q5_0, MLLM_KSLOT_Q8_0, MLLM_KSLOT_Q4_K, MLLM_KSLOT_Q5_K};
        for (int s = 0; s < 5; s++)
            CHECK(v->panel[panels[s]] != NULL && v->panel[panels[s]] != a->panel[panels[s]],
                  "avxvnni: panel slot %d not its own", panels[s]);
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return CHILD_CHECKS[atoi(argv[2]) % 3]();
    /* Children first, before this process initialises detection (it is read once). */
    CHECK(in_child("scalar", ENV_LOWERS_TO_SCALAR) == 0, "MOBILELLM_CPU=scalar");
    CHECK(in_child("turbo", ENV_IGNORED) == 0, "MOBILELLM_CPU=turbo is ignored");
    CHECK(in_child(NULL, ENV_IGNORED) == 0, "no MOBILELLM_CPU");
    CHECK(in_child("avx2", ENV_AVX2) == 0, "MOBILELLM_CPU=avx2");
#if defined(__x86_64__)
    CHECK(in_child("neon", ENV_IGNORED) == 0, "MOBILELLM_CPU=neon is refused on x86");
#else
    CHECK(in_child("avx2", ENV_IGNORED) == 0, "MOBILELLM_CPU=avx2 is refused on arm");
#endif

    mllm_cpu_level_t top = mllm_cpu_detect();
    printf("detected %s: %s\n", mllm_cpu_level_name(top), mllm_cpu_features());
    /* every level this CPU can run (ci/test-x86-levels.sh runs the suite at each) */
    printf("supported");
    for (int lv = 0; lv <= MLLM_CPU_NEON_DOTPROD; lv++)
        if (mllm_cpu_level_supported((mllm_cpu_level_t)lv) && strcmp(mllm_cpu_level_name((mllm_cpu_level_t)lv), "unknown") != 0)
            printf(" %s", mllm_cpu_level_name((mllm_cpu_level_t)lv));
    printf("\n");
    /* In use: the detected level, or a lower one from MOBILELLM_CPU set outside (ci/test-x86-levels.sh,
     * ci/test-aarch64.sh), which also say through MLLM_EXPECT_CPU_LEVEL which level must be in use. */
    char in_use[32];
    snprintf(in_use, sizeof in_use, "%s", mllm_cpu_level());
    printf("in use %s\n", in_use);
    const char *expect = getenv("MLLM_EXPECT_CPU_LEVEL");
    if (expect && *expect) CHECK(strcmp(in_use, expect) == 0, "MLLM_EXPECT_CPU_LEVEL=%s, in use %s", expect, in_use);
#if defined(__x86_64__)
    if (!mllm_cpu_level_supported(MLLM_CPU_AMX)) {
        CHECK(mllm_set_cpu_level("amx") == MLLM_ERR_UNSUPPORTED, "amx refused above the CPU");
        CHECK(strstr(mllm_last_error(), "amx") != NULL, "message names the level: %s", mllm_last_error());
    }
    CHECK(mllm_set_cpu_level("neon") == MLLM_ERR_UNSUPPORTED, "neon refused on x86");
#endif
#if defined(__linux__) && defined(__x86_64__)
    check_against_cpuinfo();
#endif
    check_k_kernel_tables(top);
    CHECK(mllm_set_cpu_level("Scalar!") == MLLM_ERR_UNSUPPORTED, "unknown name refused");
    CHECK(strcmp(mllm_cpu_level(), in_use) == 0, "refusals leave the level alone");
    CHECK(mllm_set_cpu_level(NULL) == MLLM_ERR_INVALID_ARGUMENT, "NULL refused");
    CHECK(mllm_set_cpu_level("scalar") == MLLM_OK && strcmp(mllm_cpu_level(), "scalar") == 0, "scalar always allowed");
    CHECK(mllm_cpu_detect() == top, "detection unchanged by set_level");
    CHECK(mllm_set_cpu_level(mllm_cpu_level_name(top)) == MLLM_OK, "back to the top level");
    return test_result("test_cpu_levels");
}
