/*
 * mcpfuzz_cov.c: a SanitizerCoverage runtime that writes AFL-style edge counts into the
 * System V shared memory map named by the environment variable __AFL_SHM_ID.
 *
 * Link this file (compiled WITHOUT coverage instrumentation) into a target whose own code
 * is compiled with one of:
 *
 *   gcc   -fsanitize-coverage=trace-pc              -> __sanitizer_cov_trace_pc
 *   clang -fsanitize-coverage=trace-pc-guard        -> __sanitizer_cov_trace_pc_guard{,_init}
 *   rustc -C passes=sancov-module
 *         -C llvm-args=-sanitizer-coverage-level=3
 *         -C llvm-args=-sanitizer-coverage-trace-pc-guard
 *
 * Map layout: AFL_MAP_SIZE bytes (65536 when unset), one wrapping 8-bit hit counter per slot,
 * as in AFL. The size actually used is the smaller of AFL_MAP_SIZE and the
 * segment's real size, so a wrong AFL_MAP_SIZE can never make the target write past the
 * segment.
 *
 * Without __AFL_SHM_ID, or when the id is malformed or shmat fails, the callbacks write
 * into a private buffer and the program runs as if it were not instrumented. The runtime
 * never writes to stdout (it belongs to the MCP protocol); set MCPFUZZ_COV_DEBUG=1 to get
 * one line on stderr saying whether it attached.
 *
 * Plain C99 plus three GCC/Clang extensions that both compilers accept:
 * __attribute__((constructor)), __builtin_return_address and __thread.
 */

#define _XOPEN_SOURCE 700 /* shmget, shmat, shmctl */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#define MCPFUZZ_COV_DEFAULT_SIZE 65536u

/* Where edges go before (and without) the shared map: callbacks from code that runs before
 * our constructor (other constructors, sancov module initializers) land here harmlessly. */
static unsigned char mcpfuzz_cov_dummy[MCPFUZZ_COV_DEFAULT_SIZE];

static unsigned char *mcpfuzz_cov_area = mcpfuzz_cov_dummy;
static uint32_t mcpfuzz_cov_size = MCPFUZZ_COV_DEFAULT_SIZE;
/* size - 1 when size is a power of two, so the hot path can mask instead of divide. */
static uint32_t mcpfuzz_cov_mask = MCPFUZZ_COV_DEFAULT_SIZE - 1;
static int mcpfuzz_cov_pow2 = 1;

static int mcpfuzz_cov_attempted;

/* The previous block of the current thread for trace-pc edges (AFL's prev_loc). */
static __thread uint32_t mcpfuzz_cov_prev;

/* Guard numbers handed out so far by __sanitizer_cov_trace_pc_guard_init, across all
 * modules, in init order. Zero is never used: sancov skips a guard that holds zero. */
static uint32_t mcpfuzz_cov_n_guards;

static int mcpfuzz_cov_debug(void)
{
    const char *value = getenv("MCPFUZZ_COV_DEBUG");
    return value != NULL && value[0] != '\0' && value[0] != '0';
}

static uint32_t mcpfuzz_cov_parse_u32(const char *text, int *ok)
{
    char *end = NULL;
    unsigned long value;
    *ok = 0;
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return 0;
    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value > 0x7fffffffUL)
        return 0;
    *ok = 1;
    return (uint32_t)value;
}

/* Attaches to the map once. Safe to call from any callback or constructor. */
static void mcpfuzz_cov_attach(void)
{
    const char *id_text;
    const char *size_text;
    uint32_t shm_id, size = MCPFUZZ_COV_DEFAULT_SIZE;
    int ok = 0;
    void *area;
    struct shmid_ds info;

    if (mcpfuzz_cov_attempted)
        return;
    mcpfuzz_cov_attempted = 1;

    id_text = getenv("__AFL_SHM_ID");
    if (id_text == NULL)
        return;
    shm_id = mcpfuzz_cov_parse_u32(id_text, &ok);
    if (!ok) {
        if (mcpfuzz_cov_debug())
            fprintf(stderr, "mcpfuzz_cov: ignoring malformed __AFL_SHM_ID %s\n", id_text);
        return;
    }
    size_text = getenv("AFL_MAP_SIZE");
    if (size_text != NULL) {
        uint32_t requested = mcpfuzz_cov_parse_u32(size_text, &ok);
        if (ok && requested > 0)
            size = requested;
    }
    /* Never trust AFL_MAP_SIZE beyond the segment's real size. */
    if (shmctl((int)shm_id, IPC_STAT, &info) == 0 && info.shm_segsz < size)
        size = (uint32_t)info.shm_segsz;
    if (size == 0)
        return;

    area = shmat((int)shm_id, NULL, 0);
    if (area == (void *)-1) {
        if (mcpfuzz_cov_debug())
            fprintf(stderr, "mcpfuzz_cov: shmat(%u) failed (errno %d), coverage off\n",
                    shm_id, errno);
        return;
    }
    /* Publish the mask and size before the pointer when the map shrinks, and after it
     * when it grows, so that a callback never indexes past the area it sees. Constructors
     * run before threads exist in practice, so this is belt and braces. */
    if (size <= mcpfuzz_cov_size) {
        mcpfuzz_cov_pow2 = (size & (size - 1)) == 0;
        mcpfuzz_cov_mask = size - 1;
        mcpfuzz_cov_size = size;
        mcpfuzz_cov_area = (unsigned char *)area;
    } else {
        mcpfuzz_cov_area = (unsigned char *)area;
        mcpfuzz_cov_pow2 = (size & (size - 1)) == 0;
        mcpfuzz_cov_mask = size - 1;
        mcpfuzz_cov_size = size;
    }
    if (mcpfuzz_cov_debug())
        fprintf(stderr, "mcpfuzz_cov: attached map %u, %u bytes\n", shm_id, size);
}

__attribute__((constructor(101))) static void mcpfuzz_cov_init(void)
{
    mcpfuzz_cov_attach();
}

static inline uint32_t mcpfuzz_cov_slot(uint32_t value)
{
    return mcpfuzz_cov_pow2 ? (value & mcpfuzz_cov_mask) : (value % mcpfuzz_cov_size);
}

/* clang / rustc: one guard per edge. Number the guards 1, 2, 3, ... in init order, so a
 * given binary gets the same numbering in every run; a module initialized twice (the
 * callback may be called again for the same range) keeps its numbers. */
void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop)
{
    uint32_t *guard;
    mcpfuzz_cov_attach();
    if (start == stop || *start != 0)
        return;
    for (guard = start; guard < stop; guard++)
        *guard = ++mcpfuzz_cov_n_guards;
}

void __sanitizer_cov_trace_pc_guard(uint32_t *guard)
{
    uint32_t value = *guard;
    if (value == 0)
        return;
    mcpfuzz_cov_area[mcpfuzz_cov_slot(value)]++;
}

/* The address of this function anchors return addresses: instrumented code linked into
 * the same executable or library as this runtime keeps a fixed distance from it under
 * ASLR and PIE, so the distance identifies a basic block across runs. */
static void mcpfuzz_cov_anchor(void)
{
}

/* gcc: called at the start of every basic block. Hash the block's offset into a slot and
 * count the edge (previous block, this block) the way AFL does: cur ^ (prev >> 1). */
void __sanitizer_cov_trace_pc(void)
{
    uintptr_t offset =
        (uintptr_t)__builtin_return_address(0) - (uintptr_t)&mcpfuzz_cov_anchor;
    uint32_t cur = (uint32_t)offset ^ (uint32_t)((uint64_t)offset >> 32);
    /* A multiplicative mix spreads neighbouring addresses over the whole map. */
    cur *= 0x9E3779B1u;
    cur ^= cur >> 16;
    cur = mcpfuzz_cov_slot(cur);
    mcpfuzz_cov_area[mcpfuzz_cov_slot(cur ^ mcpfuzz_cov_prev)]++;
    mcpfuzz_cov_prev = cur >> 1;
}
