#ifndef CCALZINO_SHIMS_H
#define CCALZINO_SHIMS_H

#include <malloc.h>

/// Serves every allocation of at least `bytes` from its own mapping, returned to the system when freed, and
/// turns off glibc's raising of that threshold after such a free. Swift's Glibc module does not import
/// mallopt. Returns 1 on success.
static inline int calzino_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

/// Keeps up to `bytes` of free memory at the top of each arena instead of returning it. Returns 1 on success.
static inline int calzino_set_trim_threshold(int bytes) {
    return mallopt(M_TRIM_THRESHOLD, bytes);
}

#endif
