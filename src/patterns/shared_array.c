/* shared_array.c: multiprocessing.Array for C: elements in memory shared
 * with the processes forked afterwards, and a lock they all share.
 *
 * The mapping (MAP_SHARED | MAP_ANONYMOUS, so fork shares it rather than
 * copying it) holds a process-shared, robust, error-checking mutex, then,
 * from RC_SHARED_DATA_OFFSET (a multiple of 64), n * elem_size bytes of
 * elements, zeroed by the kernel:
 *
 *   [ pthread_mutex_t | pad ][ element 0 | element 1 | ... ]
 *
 * The object (in the heap, so each process has its own copy after fork)
 * only points at the mapping; its death unmaps it in that process, and the
 * kernel frees the memory when the last process has unmapped it (or
 * exited). The mutex is never destroyed: another process may still use it.
 * Robust: if a process dies holding the lock, the next locker gets it with
 * RC_SHARED_OWNER_DIED (EOWNERDEAD, made consistent) instead of waiting
 * forever. Error-checking: unlocking a lock the caller does not hold, or
 * locking one it holds, is an error code, not undefined behaviour.
 */
#include "patterns_internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define RC_SHARED_DATA_OFFSET ((sizeof(pthread_mutex_t) + 63) & ~(size_t)63)

typedef struct rc_shared_body {
    unsigned char *map; /* NULL until mapped */
    size_t map_len, n, elem_size;
} rc_shared_body;

static void shared_destroy(void *self)
{
    rc_shared_body *a = self;
    if (a->map)
        munmap(a->map, a->map_len);
    a->map = NULL;
}

const rc_type rc_shared_array_type = {
    .name = "shared_array",
    .size = sizeof(rc_shared_body),
    .destroy = shared_destroy,
};

static pthread_mutex_t *lock_of(const rc_shared_body *a) { return (pthread_mutex_t *)a->map; }

static int init_lock(pthread_mutex_t *lock)
{
    pthread_mutexattr_t attr;
    int err = pthread_mutexattr_init(&attr);
    if (err == 0)
        err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (err == 0)
        err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (err == 0)
        err = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    if (err == 0)
        err = pthread_mutex_init(lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return err;
}

void *rc_shared_array_new(size_t n, size_t elem_size)
{
    if (n == 0 || elem_size == 0 || n > (SIZE_MAX - RC_SHARED_DATA_OFFSET) / elem_size) {
        rc_set_error(RC_EINVAL, "rc_shared_array_new: %zu elements of %zu bytes: %s", n, elem_size,
                     n && elem_size ? "too many bytes" : "the size is 0");
        return NULL;
    }
    rc_shared_body *a = rc_new(&rc_shared_array_type);
    if (!a)
        return NULL;
    size_t len = RC_SHARED_DATA_OFFSET + n * elem_size;
    void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        rc_set_error(RC_ENOMEM, "out of memory: rc_shared_array_new: mmap of %zu bytes failed: %s",
                     len, strerror(errno));
        rc_decref(a);
        return NULL;
    }
    *a = (rc_shared_body){map, len, n, elem_size};
    int err = init_lock(lock_of(a));
    if (err) {
        rc_set_error(RC_ENOMEM, "rc_shared_array_new: cannot make the lock: %s", strerror(err));
        rc_decref(a);
        return NULL;
    }
    return a;
}

static rc_shared_body *checked(const void *self, const char *fn)
{
    return rc_types_check(self, &rc_shared_array_type, fn) ? (rc_shared_body *)self : NULL;
}

size_t rc_shared_array_len(const void *self)
{
    const rc_shared_body *a = checked(self, "rc_shared_array_len");
    return a ? a->n : 0;
}

size_t rc_shared_array_elem_size(const void *self)
{
    const rc_shared_body *a = checked(self, "rc_shared_array_elem_size");
    return a ? a->elem_size : 0;
}

void *rc_shared_array_data(void *self)
{
    rc_shared_body *a = checked(self, "rc_shared_array_data");
    return a ? a->map + RC_SHARED_DATA_OFFSET : NULL;
}

static int lock_array(rc_shared_body *a, const char *fn)
{
    int err = pthread_mutex_lock(lock_of(a));
    if (err == 0)
        return 0;
    if (err == EOWNERDEAD) {
        pthread_mutex_consistent(lock_of(a));
        return RC_SHARED_OWNER_DIED;
    }
    return rc_set_error(RC_ESTATE, "%s: cannot take the lock: %s", fn, strerror(err));
}

int rc_shared_array_lock(void *self)
{
    rc_shared_body *a = checked(self, "rc_shared_array_lock");
    return a ? lock_array(a, "rc_shared_array_lock") : RC_EINVAL;
}

int rc_shared_array_unlock(void *self)
{
    rc_shared_body *a = checked(self, "rc_shared_array_unlock");
    if (!a)
        return RC_EINVAL;
    int err = pthread_mutex_unlock(lock_of(a));
    if (err == EPERM)
        return rc_set_error(RC_ESTATE, "rc_shared_array_unlock: the caller does not hold the lock");
    if (err)
        return rc_set_error(RC_ESTATE, "rc_shared_array_unlock: %s", strerror(err));
    return 0;
}

/* Copies element i out (out != NULL) or in, under the lock. */
static int copy_element(void *self, size_t i, void *out, const void *in, const char *fn)
{
    rc_shared_body *a = checked(self, fn);
    if (!a)
        return RC_EINVAL;
    if (i >= a->n)
        return rc_set_error(RC_EINVAL, "%s: index %zu out of range (length %zu)", fn, i, a->n);
    if (!out && !in)
        return rc_set_error(RC_EINVAL, "%s: the element pointer is NULL", fn);
    int locked = lock_array(a, fn);
    if (locked < 0)
        return locked;
    unsigned char *element = a->map + RC_SHARED_DATA_OFFSET + i * a->elem_size;
    if (out)
        memcpy(out, element, a->elem_size);
    else
        memcpy(element, in, a->elem_size);
    pthread_mutex_unlock(lock_of(a));
    return locked;
}

int rc_shared_array_get(void *self, size_t i, void *out)
{
    return copy_element(self, i, out, NULL, "rc_shared_array_get");
}

int rc_shared_array_set(void *self, size_t i, const void *value)
{
    return copy_element(self, i, NULL, value, "rc_shared_array_set");
}
