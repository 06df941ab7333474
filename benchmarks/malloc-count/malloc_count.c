// An LD_PRELOAD library that counts calls to malloc, calloc, realloc and posix_memalign in a process, and
// writes the count to the file named by MALLOC_COUNT_FILE whenever the process gets SIGUSR2, so that a
// script can read the count before and after a load and divide by the work done.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_ulong calls;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_memalign)(void **, size_t, size_t);
static void (*real_free)(void *);

// dlsym itself may call calloc before real_calloc is known: serve it from a static arena.
static char bootstrap[4096];
static size_t bootstrap_used;

static void *bootstrap_alloc(size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (bootstrap_used + size > sizeof bootstrap) return NULL;
    void *p = bootstrap + bootstrap_used;
    bootstrap_used += size;
    return p;
}

static void dump(int sig) {
    (void)sig;
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path) return;
    char text[32];
    unsigned long n = atomic_load(&calls);
    int len = 0;
    char digits[24];
    do { digits[len++] = (char)('0' + n % 10); n /= 10; } while (n);
    for (int i = 0; i < len; i++) text[i] = digits[len - 1 - i];
    text[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        (void)!write(fd, text, (size_t)len);
        close(fd);
    }
}

// Libraries' constructors (Foundation's among them) may allocate before ours runs, so every wrapper resolves
// the real functions on first use; dlsym's own allocations during that come from the bootstrap arena.
static int resolving;

static void resolve(void) {
    if (real_free || resolving) return;
    resolving = 1;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_free = dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

__attribute__((constructor)) static void init(void) {
    resolve();
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = dump;
    action.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &action, NULL);
}

void *malloc(size_t size) {
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    resolve();
    if (!real_malloc) return bootstrap_alloc(size);
    return real_malloc(size);
}

void *calloc(size_t n, size_t size) {
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    resolve();
    if (!real_calloc) {
        void *p = bootstrap_alloc(n * size);
        if (p) memset(p, 0, n * size);
        return p;
    }
    return real_calloc(n, size);
}

void *realloc(void *old, size_t size) {
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    resolve();
    return real_realloc(old, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    resolve();
    return real_memalign(out, alignment, size);
}

void free(void *p) {
    if (p >= (void *)bootstrap && p < (void *)(bootstrap + sizeof bootstrap)) return;
    resolve();
    if (real_free) real_free(p);
}
