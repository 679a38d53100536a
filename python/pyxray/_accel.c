/*
 * pyxray._accel: the hot path of trace mode in C (optional; see _accel_build.py and
 * _profile_accel.py). CPython 3.8-3.15, GIL builds, CPython C API only. The versions whose headers
 * this file was checked against are ACCEL_VERIFIED_MINORS in _versions.py; _accel_build.py builds
 * it for no other, and the #error below stops a build for a newer one that skips that check.
 *
 * The C side does exactly what the pure-Python callbacks of _profile_monitoring.py (3.12+) and
 * _profile_setprofile.py (3.8-3.11) do on their fast paths, on the very same tree: nodes are the
 * Python lists of _profile_tree.py (slots CHILDREN, CALLS, TOTAL, T0, KEY, ..., SINK), children
 * are found in CHILDREN under the same keys (id(code) for Python code, the builtin key of
 * _profile_trace.builtin_key for builtins), and everything that is not the fast path -- the first
 * sight of a code object under a node, filtering, DISABLE, frames older than the profile, new
 * threads -- calls the Python engine's own slow-path methods. So both engines build the same
 * tree by construction.
 *
 * What C adds: a direct-mapped cache (parent node, key) -> child node in front of the CHILDREN
 * dicts, so that the fast path allocates nothing for the lookup (the Python engine builds an int
 * for id(code), or a (type, name) tuple for a bound builtin method, on every event); clock reads
 * through clock_gettime with the clock id time.perf_counter / time.thread_time use (else the
 * Python clock is called); the thread's stack by the thread state's unique id, or, while the
 * program has one thread, the stack the Python side names with engine.solo(stack).
 *
 * Engine(clock_id, clock, stack_of, builtins, slow_start, slow_return, slow_call, new_builtin,
 *        slow_c_return, slow_c_call, push_sink)
 *   sys.monitoring callbacks: engine.start/throw (PY_START, PY_RESUME / PY_THROW), ret/unwind
 *   (PY_RETURN, PY_YIELD / PY_UNWIND), call (CALL), c_ret/c_raise (C_RETURN / C_RAISE).
 *   setprofile: engine.hook(stack) -> a Hook; setprofile(hook) installs it with PyEval_SetProfile
 *   in the calling thread (setprofile(None) removes it); a Hook is also callable as a Python
 *   profile function (frame, event, arg), for the first event of a thread.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#if PY_VERSION_HEX < 0x030B0000
#include <longintrepr.h>
#endif
#include <time.h>
#include <sched.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#ifdef Py_GIL_DISABLED
#error "pyxray._accel needs the GIL (free-threaded builds use the Python engine)"
#endif

#if PY_VERSION_HEX < 0x03080000
#error "pyxray._accel needs CPython 3.8+"
#endif

#if PY_VERSION_HEX >= 0x03100000
#error "pyxray._accel was not checked against CPython 3.16+ headers (see ACCEL_VERIFIED_MINORS)"
#endif

#if PY_VERSION_HEX < 0x03090000
#define Py_SET_SIZE(o, n) (Py_SIZE(o) = (n))
static PyCodeObject *get_code(PyFrameObject *f) { Py_INCREF(f->f_code); return f->f_code; }
#define CALL_NOARGS(f) PyObject_CallObject((f), NULL)
#define PyObject_Vectorcall _PyObject_Vectorcall
#else
static PyCodeObject *get_code(PyFrameObject *f) { return PyFrame_GetCode(f); }
#define CALL_NOARGS(f) PyObject_CallNoArgs(f)
#endif

/* Node slots (_profile_tree.py). */
enum { CHILDREN = 0, CALLS = 1, TOTAL = 2, T0 = 3, KEY = 4, HIDDEN_CALLS = 6, QUIET = 8, MEM0 = 11, SINK = 15, NODE_SIZE = 16 };

#define CACHE_SIZE 4096 /* entries, a power of two */

/* One cache entry: parent node + key identity -> child. k2 is NULL for keys that are objects
 * (code objects, builtins keyed by themselves) and the owner type for (type, name) keys, whose
 * k1 is then the PyMethodDef. The entry owns references to parent and child; the child's KEY
 * keeps the key object alive, so a pointer in k1 never stands for two objects. */
typedef struct {
    PyObject *parent;
    const void *k1;
    const void *k2;
    PyObject *child;
} CacheEntry;

typedef struct {
    PyObject_HEAD
    int clock_id;          /* clock_gettime id, or -1: call `clock` */
    int builtins;          /* setprofile: whether builtins are traced */
    PyObject *clock;
    PyObject *stack_of;    /* monitoring: () -> the calling thread's stack */
    PyObject *slow_start, *slow_return, *slow_call, *new_builtin, *slow_c_return, *slow_c_call, *push_sink;
    PyObject *stacks;      /* monitoring: {thread state id: stack} */
    uint64_t last_tid;
    PyThreadState *last_ts;
    PyObject *last_stack;  /* borrowed from `stacks` */
    PyObject *solo_stack;  /* monitoring, while the program has one thread: its stack (no lookup) */
    CacheEntry *cache;
    int memory;            /* memory accounting (mem_start) follows this engine's stacks */
} Engine;

typedef struct {
    PyObject_HEAD
    Engine *engine;
    PyObject *stack;
} Hook;

static PyTypeObject EngineType;
static PyTypeObject HookType;

/* ---- small helpers ---------------------------------------------------------------------- */

static inline int now(Engine *e, double *out) {
    if (e->clock_id >= 0) {
        struct timespec ts;
        if (clock_gettime((clockid_t)e->clock_id, &ts) == 0) {
            long long ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
            *out = (double)ns / 1e9; /* as time.perf_counter() / time.thread_time() */
            return 0;
        }
    }
    PyObject *t = CALL_NOARGS(e->clock);
    if (t == NULL) return -1;
    *out = PyFloat_AsDouble(t);
    Py_DECREF(t);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* node[index] = value (steals value). */
static void set_slot(PyObject *node, Py_ssize_t index, PyObject *value) {
    PyObject *old = PyList_GET_ITEM(node, index);
    PyList_SET_ITEM(node, index, value);
    Py_XDECREF(old);
}

/* A float only the node holds can be updated in place: no one can observe the difference, and
 * it saves an allocation per event. */
#define OWNED_FLOAT(o) (PyFloat_CheckExact(o) && Py_REFCNT(o) == 1)

/* node[index] += delta (a float slot) */
static inline int add_float(PyObject *node, Py_ssize_t index, double delta) {
    PyObject *old = PyList_GET_ITEM(node, index);
    double v;
    if (OWNED_FLOAT(old)) {
        ((PyFloatObject *)old)->ob_fval += delta;
        return 0;
    }
    if (PyFloat_CheckExact(old)) v = PyFloat_AS_DOUBLE(old);
    else {
        v = PyFloat_AsDouble(old);
        if (v == -1.0 && PyErr_Occurred()) return -1;
    }
    PyObject *value = PyFloat_FromDouble(v + delta);
    if (value == NULL) return -1;
    set_slot(node, index, value);
    return 0;
}

static inline int set_float(PyObject *node, Py_ssize_t index, double v) {
    PyObject *old = PyList_GET_ITEM(node, index);
    if (OWNED_FLOAT(old)) {
        ((PyFloatObject *)old)->ob_fval = v;
        return 0;
    }
    PyObject *value = PyFloat_FromDouble(v);
    if (value == NULL) return -1;
    set_slot(node, index, value);
    return 0;
}

/* An int only the node holds, positive and of one digit, is incremented in place (as floats).
 * 3.12+: lv_tag is ndigits << _PyLong_NON_SIZE_BITS | sign (0 positive) | 3.14+ bit 2 "small int"
 * (the cached, immortal -5..256, never held by one reference alone), so exactly 1 << 3 is a
 * positive one-digit int that is not a cached one; the same in the 3.15 headers. */
static inline int bump_owned_int(PyObject *o) {
    if (!PyLong_CheckExact(o) || Py_REFCNT(o) != 1) return 0;
    PyLongObject *l = (PyLongObject *)o;
#if PY_VERSION_HEX >= 0x030C0000
    if (l->long_value.lv_tag != ((uintptr_t)1 << _PyLong_NON_SIZE_BITS)) return 0; /* positive, 1 digit */
    digit d = l->long_value.ob_digit[0];
    if ((unsigned long)d + 1 >= (unsigned long)PyLong_BASE) return 0;
    l->long_value.ob_digit[0] = d + 1;
#else
    if (Py_SIZE(o) != 1) return 0;
    digit d = l->ob_digit[0];
    if ((unsigned long)d + 1 >= (unsigned long)PyLong_BASE) return 0;
    l->ob_digit[0] = d + 1;
#endif
    return 1;
}

/* node[index] += 1 (an int slot) */
static inline int incr(PyObject *node, Py_ssize_t index) {
    PyObject *old = PyList_GET_ITEM(node, index);
    PyObject *value;
    if (bump_owned_int(old)) return 0;
    if (PyLong_CheckExact(old)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(old, &overflow);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (!overflow && v < LLONG_MAX) {
            value = PyLong_FromLongLong(v + 1);
            if (value == NULL) return -1;
            set_slot(node, index, value);
            return 0;
        }
    }
    {
        PyObject *one = PyLong_FromLong(1);
        if (one == NULL) return -1;
        value = PyNumber_Add(old, one);
        Py_DECREF(one);
    }
    if (value == NULL) return -1;
    set_slot(node, index, value);
    return 0;
}

static inline int float_of(PyObject *o, double *out) {
    if (PyFloat_CheckExact(o)) {
        *out = PyFloat_AS_DOUBLE(o);
        return 0;
    }
    *out = PyFloat_AsDouble(o);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static int is_node(PyObject *node) { return PyList_CheckExact(node) && PyList_GET_SIZE(node) >= NODE_SIZE; }

static inline PyObject *top_of(PyObject *stack) {
    Py_ssize_t n = PyList_GET_SIZE(stack);
    if (n == 0) {
        PyErr_SetString(PyExc_IndexError, "list index out of range");
        return NULL;
    }
    PyObject *top = PyList_GET_ITEM(stack, n - 1);
    if (!is_node(top)) {
        PyErr_SetString(PyExc_TypeError, "pyxray._accel: a stack entry is not a profile node");
        return NULL;
    }
    return top;
}

/* del stack[-1] (the stack is not empty). */
static inline void pop(PyObject *stack) {
    Py_ssize_t n = PyList_GET_SIZE(stack);
    PyObject *item = PyList_GET_ITEM(stack, n - 1);
    PyList_SET_ITEM(stack, n - 1, NULL);
    Py_SET_SIZE(stack, n - 1);
    Py_DECREF(item);
}

/* ---- the child cache ------------------------------------------------------------------------ */

static inline size_t cache_index(PyObject *parent, const void *k1, const void *k2) {
    uintptr_t h = ((uintptr_t)parent >> 4) * 0x9E3779B1u;
    h ^= ((uintptr_t)k1 >> 3) * 0x85EBCA77u;
    h ^= (uintptr_t)k2 >> 4;
    h ^= h >> 15;
    return (size_t)h & (CACHE_SIZE - 1);
}

static void cache_put(Engine *e, PyObject *parent, const void *k1, const void *k2, PyObject *child) {
    CacheEntry *entry = &e->cache[cache_index(parent, k1, k2)];
    PyObject *old_parent = entry->parent, *old_child = entry->child;
    Py_INCREF(parent);
    Py_INCREF(child);
    entry->parent = parent;
    entry->k1 = k1;
    entry->k2 = k2;
    entry->child = child;
    Py_XDECREF(old_parent);
    Py_XDECREF(old_child);
}

static void cache_clear(Engine *e) {
    if (e->cache == NULL) return;
    for (size_t i = 0; i < CACHE_SIZE; i++) {
        CacheEntry *entry = &e->cache[i];
        PyObject *parent = entry->parent, *child = entry->child;
        entry->parent = NULL;
        entry->child = NULL;
        entry->k1 = entry->k2 = NULL;
        Py_XDECREF(parent);
        Py_XDECREF(child);
    }
}

/* The child of `parent` for `key`: from the cache, else from parent's CHILDREN (then cached).
 * Borrowed; NULL without an exception when there is none; NULL with one on error. `key` is only
 * built on a cache miss: make_key(arg) builds it. */
static inline PyObject *find_child(Engine *e, PyObject *parent, const void *k1, const void *k2, PyObject *(*make_key)(PyObject *), PyObject *arg) {
    CacheEntry *entry = &e->cache[cache_index(parent, k1, k2)];
    if (entry->parent == parent && entry->k1 == k1 && entry->k2 == k2) return entry->child;
    PyObject *children = PyList_GET_ITEM(parent, CHILDREN);
    if (!PyDict_Check(children)) {
        PyErr_SetString(PyExc_TypeError, "pyxray._accel: a node's CHILDREN is not a dict");
        return NULL;
    }
    PyObject *key = make_key(arg);
    if (key == NULL) return NULL;
    PyObject *child = PyDict_GetItemWithError(children, key);
    Py_DECREF(key);
    if (child == NULL) return NULL;
    if (!is_node(child)) {
        PyErr_SetString(PyExc_TypeError, "pyxray._accel: a child is not a profile node");
        return NULL;
    }
    cache_put(e, parent, k1, k2, child);
    return child;
}

static PyObject *id_key(PyObject *obj) { return PyLong_FromVoidPtr(obj); }
static PyObject *self_key(PyObject *obj) { Py_INCREF(obj); return obj; }

/* The type in a bound builtin's (type, name) key: the owner itself when it is a class, else its type. */
static inline PyObject *owner_type(PyObject *owner) { return PyType_Check(owner) ? owner : (PyObject *)Py_TYPE(owner); }

/* The (type, name) key of a builtin method bound to an instance or a class. */
static PyObject *tuple_key(PyObject *func) {
    PyObject *type = owner_type(PyCFunction_GET_SELF(func));
    PyObject *name = PyUnicode_FromString(((PyCFunctionObject *)func)->m_ml->ml_name);
    if (name == NULL) return NULL;
    PyObject *key = PyTuple_Pack(2, type, name);
    Py_DECREF(name);
    return key;
}

/* A builtin's key kind: 0 = the function itself (a method descriptor, a module function or a
 * function without self), 1 = (type, name). `func` is a PyCFunction (or subclass) or a method
 * descriptor. As _profile_trace.builtin_key. */
static int bound_to_instance(PyObject *func) {
    if (Py_TYPE(func) == &PyMethodDescr_Type) return 0;
    PyObject *owner = PyCFunction_GET_SELF(func);
    return !(owner == NULL || owner == Py_None || Py_TYPE(owner) == &PyModule_Type);
}

/* ---- thread stacks (monitoring) ------------------------------------------------------------- */

static inline PyObject *thread_stack(Engine *e) {
    if (e->solo_stack != NULL) return e->solo_stack;
    PyThreadState *ts = PyThreadState_Get();
    uint64_t tid = ts->id; /* unique in the interpreter (a thread state's address is not) */
    if (ts == e->last_ts && tid == e->last_tid && e->last_stack != NULL) return e->last_stack;
    PyObject *key = PyLong_FromUnsignedLongLong(tid);
    if (key == NULL) return NULL;
    PyObject *stack = PyDict_GetItemWithError(e->stacks, key);
    if (stack == NULL) {
        if (PyErr_Occurred()) {
            Py_DECREF(key);
            return NULL;
        }
        stack = CALL_NOARGS(e->stack_of);
        if (stack == NULL) {
            Py_DECREF(key);
            return NULL;
        }
        if (!PyList_CheckExact(stack)) {
            Py_DECREF(stack);
            Py_DECREF(key);
            PyErr_SetString(PyExc_TypeError, "pyxray._accel: stack_of() must return a list");
            return NULL;
        }
        int failed = PyDict_SetItem(e->stacks, key, stack);
        Py_DECREF(stack); /* the dict keeps it */
        if (failed) {
            Py_DECREF(key);
            return NULL;
        }
    }
    Py_DECREF(key);
    e->last_tid = tid;
    e->last_ts = ts;
    e->last_stack = stack;
    return stack;
}

/* Calls a slow path with (stack, *more) and returns its result. */
static PyObject *call_slow(PyObject *func, PyObject *stack, PyObject *a, PyObject *b) {
    PyObject *args[3] = {stack, a, b};
    Py_ssize_t n = a == NULL ? 1 : b == NULL ? 2 : 3;
    Py_INCREF(stack);
    PyObject *out = PyObject_Vectorcall(func, args, n, NULL);
    Py_DECREF(stack);
    return out;
}

static PyObject *call_slow_t(PyObject *func, PyObject *stack, PyObject *a, double t) {
    PyObject *tt = PyFloat_FromDouble(t);
    if (tt == NULL) return NULL;
    PyObject *out = call_slow(func, stack, a, tt);
    Py_DECREF(tt);
    return out;
}

/* ---- memory accounting (memory mode) ----------------------------------------------------------
 *
 * A PyMem allocator wrapper on the raw, mem and object domains, chained to the allocators found
 * at install (so tracemalloc, installed before or after, still sees everything), charges every
 * allocation to the call node on top of the calling thread's stack:
 *
 * - each node that was ever on a stack in memory mode has a record (MemRec: the node, bytes
 *   allocated under it, allocations, bytes of its blocks freed since -- whoever freed them --
 *   and its peak); node[MEM0] holds the record's index + 1;
 * - each thread has a shadow of its Python stack (ThreadMem: one MemFrame per entry, with the
 *   bytes allocated minus freed on this thread since the entry, callees included, and the peak
 *   of that level); the engine resynchronises it with the Python stack after every event it
 *   handles (mem_sync: usually one push or one pop). On a pop the frame's peak goes to its record
 *   and, on top of the parent's level at that moment, into the parent's peak: peaks are the
 *   highest level during the call, callees included, with no walk up the stack per allocation;
 * - each block allocated under a node is kept, with its size and record, in the size map (below:
 *   indexed by address, 8 bytes per 16 bytes of addresses it covers) or, when its address does not
 *   fit the map, in an owner table (open addressing, linear probing, deletion by backward shift:
 *   24 bytes a block, no tombstones), so that its free, wherever and whenever it happens while
 *   memory is measured, is credited to the node that allocated it.
 *   A header in front of each block would save the lookup but cannot be told apart from blocks
 *   allocated before install, and breaks when a block outlives the wrapper (freed after uninstall).
 *
 * Blocks allocated before mem_start, by threads without a stack, or by the profiler itself (while
 * an engine event runs: tls.busy) are not in the table, so their frees change nothing.
 * The raw domain may be called without the GIL: the table, the records and the thread registry
 * are only touched under a spin lock (uncontended: one atomic exchange); a thread's frames are
 * only changed by that thread (under the GIL) or by mem_stop (under the GIL and the lock).
 * Nested calls (pymalloc's object allocator falls back to PyMem_RawMalloc for large blocks) are
 * passed straight through (tls.depth). Internal memory comes from the raw allocator found at
 * install, never from the wrapper. */

typedef struct {
    PyObject *node;         /* strong reference */
    int64_t allocated, count, freed, peak;
} MemRec;

typedef struct {
    PyObject *node;         /* borrowed: compared with the Python stack's entries */
    uint32_t rec;
    int64_t level, peak;
} MemFrame;

typedef struct ThreadMem {
    MemFrame *frames;
    Py_ssize_t depth, cap;
    struct ThreadMem *next;
} ThreadMem;

typedef struct {
    uintptr_t ptr;          /* 0: empty */
    size_t size;
    uint32_t rec;
} Owner;

static struct {
    int installed;          /* our allocators are (or were left) in place */
    int active;             /* accounting on (only read/written under the lock once installed) */
    Engine *owner;          /* the engine measuring (a borrowed reference, cleared by mem_stop) */
    Engine *recs_of;        /* the engine the records belong to (borrowed, cleared by its dealloc) */
    unsigned gen;           /* thread registrations of an older generation are void */
    PyMemAllocatorEx prev[3], ours[3];
    MemRec *recs;
    size_t nrecs, caprecs;
    Owner *table;
    size_t mask, used;      /* mask + 1 slots, a power of two */
    ThreadMem *threads;
    int lock;
    /* line mode (lines_begin .. lines_end): no call nodes, one running level for one thread */
    int lines;              /* on (written under the lock; see the size map for its readers) */
} M;

typedef struct {
    ThreadMem *tm;
    unsigned gen;
    int busy;               /* an engine event runs: its allocations are the profiler's */
    int depth;              /* inside the wrapper (a nested domain call) */
    int lines_owner;        /* this thread is the one line mode measures */
} ThreadLocal;

#if defined(__GNUC__) || defined(__clang__)
static __thread ThreadLocal tls;
#else
static _Thread_local ThreadLocal tls;
#endif

static inline void mem_lock(void) {
    while (__atomic_exchange_n(&M.lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&M.lock, __ATOMIC_RELAXED)) sched_yield();
    }
}

static inline void mem_unlock(void) { __atomic_store_n(&M.lock, 0, __ATOMIC_RELEASE); }

static void *raw_alloc(size_t n) { return M.prev[PYMEM_DOMAIN_RAW].malloc(M.prev[PYMEM_DOMAIN_RAW].ctx, n); }
static void *raw_calloc(size_t n, size_t size) { return M.prev[PYMEM_DOMAIN_RAW].calloc(M.prev[PYMEM_DOMAIN_RAW].ctx, n, size); }
static void *raw_realloc(void *p, size_t n) { return M.prev[PYMEM_DOMAIN_RAW].realloc(M.prev[PYMEM_DOMAIN_RAW].ctx, p, n); }
static void raw_free(void *p) { M.prev[PYMEM_DOMAIN_RAW].free(M.prev[PYMEM_DOMAIN_RAW].ctx, p); }

static inline size_t owner_hash(uintptr_t p) {
    uint64_t h = (uint64_t)p >> 4;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20);
}

/* Grows the table (under the lock); 0, or -1 when memory ran out (the block goes untracked). */
static int table_grow(void) {
    size_t slots = M.table == NULL ? 1 << 16 : (M.mask + 1) * 2;
    Owner *table = raw_calloc(slots, sizeof(Owner));
    if (table == NULL) return -1;
    size_t mask = slots - 1;
    if (M.table != NULL) {
        for (size_t i = 0; i <= M.mask; i++) {
            Owner *o = &M.table[i];
            if (o->ptr == 0) continue;
            size_t j = owner_hash(o->ptr) & mask;
            while (table[j].ptr != 0) j = (j + 1) & mask;
            table[j] = *o;
        }
        raw_free(M.table);
    }
    M.table = table;
    M.mask = mask;
    return 0;
}

static inline void table_put(uintptr_t p, size_t size, uint32_t rec) {
    if (M.table == NULL || (M.used + 1) * 2 > M.mask + 1) {
        if (table_grow() < 0) return;
    }
    size_t i = owner_hash(p) & M.mask;
    while (M.table[i].ptr != 0 && M.table[i].ptr != p) i = (i + 1) & M.mask;
    if (M.table[i].ptr == 0) M.used++;
    M.table[i].ptr = p;
    M.table[i].size = size;
    M.table[i].rec = rec;
}

/* Removes p's entry into *out; 0 when p is not tracked. */
static inline int table_take(uintptr_t p, Owner *out) {
    if (M.table == NULL) return 0;
    size_t mask = M.mask, i = owner_hash(p) & mask;
    for (;;) {
        if (M.table[i].ptr == 0) return 0;
        if (M.table[i].ptr == p) break;
        i = (i + 1) & mask;
    }
    *out = M.table[i];
    /* backward-shift deletion: pull later entries of the probe run into the hole */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        uintptr_t q = M.table[j].ptr;
        if (q == 0) break;
        size_t home = owner_hash(q) & mask;
        /* the entry at j may move to the hole when its home is not cyclically in (hole, j] */
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            M.table[hole] = M.table[j];
            hole = j;
        }
    }
    M.table[hole].ptr = 0;
    M.used--;
    return 1;
}

/* The calling thread's frames, when it has any in this generation (under the lock). */
static inline ThreadMem *my_frames(void) {
    ThreadMem *tm = tls.tm;
    return (tm != NULL && tls.gen == M.gen && tm->depth > 0) ? tm : NULL;
}

/* ---- the size map -----------------------------------------------------------------------------
 *
 * The size of each block allocated while memory is measured (and, in profile mode, the record it
 * is charged to) is kept in a map indexed by address: a leaf per 16 KiB of addresses holds one
 * 8-byte slot per 16 bytes (the size + 1, 0: not tracked; the record), found through two levels
 * of 2^17 pointers (48-bit addresses). Blocks that are neighbours in memory (pymalloc hands out a
 * pool's blocks in order) share a leaf and its cache lines, so an allocation or a free costs a few
 * loads that hit the cache. The owner table (a hash of the address) scattered them: nearly every
 * allocation and free of a program that allocates a lot was a cache miss, which cost mem lines
 * about what tracemalloc costs and memory mode ~4x trace mode on 400,000 live blocks.
 *
 * Profile mode reads and writes the map under the lock. Line mode takes no lock: only the
 * measuring thread makes levels and leaves and marks slots; any thread may clear a block's slot
 * when it frees it (the allocator orders a block's free before its reuse); the measuring thread's
 * own frees lower its counter, other threads' go to an atomic one. Levels and leaves are published
 * with release stores, so a reader without the lock never sees a half-made one. The map's memory
 * comes from mmap and is never unmapped: when a period ends its leaves are zeroed (on Linux
 * madvise(MADV_DONTNEED), which gives their pages back) and kept for the next, so a thread still
 * inside a free (the raw domain runs without the GIL) never reads released memory. Blocks not
 * aligned to 16 bytes, above 2^48 or of 4 GiB or more go to the owner table under the lock. */

#define SM_GRAIN 4                              /* 16 bytes a slot */
#define SM_LEAF_BITS 10                         /* 1,024 slots a leaf: 16 KiB of addresses */
#define SM_MID_BITS 17
#define SM_TOP_BITS 17                          /* 4 + 10 + 17 + 17 = 48 */
#define SM_CHUNK ((size_t)1 << 20)              /* leaves are carved from 1 MiB mappings */

typedef struct {
    uint32_t size1;         /* the block's size + 1; 0: not tracked */
    uint32_t rec;           /* profile mode: the record it is charged to */
} Slot;

#define SM_LEAF_BYTES (sizeof(Slot) << SM_LEAF_BITS)

static struct {
    Slot ***top;            /* [1 << SM_TOP_BITS] of mids, a mid [1 << SM_MID_BITS] of leaves */
    char *chunk;            /* the mapping leaves are carved from; its first leaf-sized part
                               holds the previous mapping's address */
    size_t carved;          /* bytes of it used */
    /* line mode */
    int64_t mine;           /* the measuring thread's allocations minus its frees of tracked blocks */
    int64_t elsewhere;      /* tracked bytes freed by other threads (atomic) */
    int64_t peak;           /* the highest level since the last reset */
    uintptr_t last_ptr;     /* the measuring thread's last allocation, and the peak before it */
    int64_t last_peak;
} S;

static void *sm_map(size_t n) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static inline int sm_fits(uintptr_t p, size_t size) { return (p & 15) == 0 && ((uint64_t)p >> 48) == 0 && (uint64_t)size < 0xFFFFFFFFu; }

/* The slot of p (which sm_fits); with make (line mode: the measuring thread only; profile mode:
 * under the lock), its levels are made when missing. NULL when p's leaf does not exist (or could
 * not be made). */
static inline Slot *sm_slot(uintptr_t p, int make) {
    uintptr_t k = p >> SM_GRAIN;
    size_t ti = (size_t)(k >> (SM_LEAF_BITS + SM_MID_BITS));
    size_t mi = (size_t)(k >> SM_LEAF_BITS) & (((size_t)1 << SM_MID_BITS) - 1);
    size_t li = (size_t)k & (((size_t)1 << SM_LEAF_BITS) - 1);
    Slot ***top = __atomic_load_n(&S.top, __ATOMIC_ACQUIRE);
    if (top == NULL) {
        if (!make || (top = sm_map(sizeof(void *) << SM_TOP_BITS)) == NULL) return NULL;
        __atomic_store_n(&S.top, top, __ATOMIC_RELEASE);
    }
    Slot **mid = __atomic_load_n(&top[ti], __ATOMIC_ACQUIRE);
    if (mid == NULL) {
        if (!make || (mid = sm_map(sizeof(void *) << SM_MID_BITS)) == NULL) return NULL;
        __atomic_store_n(&top[ti], mid, __ATOMIC_RELEASE);
    }
    Slot *leaf = __atomic_load_n(&mid[mi], __ATOMIC_ACQUIRE);
    if (leaf == NULL) {
        if (!make) return NULL;
        if (S.chunk == NULL || S.carved + SM_LEAF_BYTES > SM_CHUNK) {
            char *chunk = sm_map(SM_CHUNK);
            if (chunk == NULL) return NULL;
            *(char **)chunk = S.chunk;
            S.chunk = chunk;
            S.carved = SM_LEAF_BYTES;
        }
        leaf = (Slot *)(S.chunk + S.carved);
        S.carved += SM_LEAF_BYTES;
        __atomic_store_n(&mid[mi], leaf, __ATOMIC_RELEASE);
    }
    return &leaf[li];
}

/* Zeroes every leaf (no period is on: nothing marks a slot), keeping the mappings. */
static void sm_reset(void) {
    for (char *chunk = S.chunk; chunk != NULL; chunk = *(char **)chunk) {
        size_t end = chunk == S.chunk ? S.carved : SM_CHUNK;
        if (end <= SM_LEAF_BYTES) continue;
#if defined(__linux__) && defined(MADV_DONTNEED)
        if (madvise(chunk + SM_LEAF_BYTES, end - SM_LEAF_BYTES, MADV_DONTNEED) == 0) continue;
#endif
        memset(chunk + SM_LEAF_BYTES, 0, end - SM_LEAF_BYTES);
    }
}

/* Profile mode (under the lock): p (size bytes) is charged to rec. */
static inline void owner_put(uintptr_t p, size_t size, uint32_t rec) {
    if (sm_fits(p, size)) {
        Slot *slot = sm_slot(p, 1);
        if (slot != NULL) {
            slot->size1 = (uint32_t)size + 1;
            slot->rec = rec;
        }
    } else {
        table_put(p, size, rec);
    }
}

/* Profile mode (under the lock): removes p's entry into *out; 0 when p is not tracked. */
static inline int owner_take(uintptr_t p, Owner *out) {
    if (!sm_fits(p, 0)) return table_take(p, out);
    Slot *slot = sm_slot(p, 0);
    if (slot == NULL || slot->size1 == 0) return 0;
    out->ptr = p;
    out->size = (size_t)slot->size1 - 1;
    out->rec = slot->rec;
    slot->size1 = 0;
    return 1;
}

static inline int64_t lines_level(void) { return S.mine - __atomic_load_n(&S.elsewhere, __ATOMIC_RELAXED); }

/* Line mode: marks p (size bytes) in the map, or the owner table under the lock. */
static inline void lines_mark(uintptr_t p, size_t size, int make) {
    if (sm_fits(p, size)) {
        Slot *slot = sm_slot(p, make);
        if (slot != NULL) __atomic_store_n(&slot->size1, (uint32_t)size + 1, __ATOMIC_RELAXED);
    } else {
        mem_lock();
        table_put(p, size, 0);
        mem_unlock();
    }
}

/* The measuring thread allocated p (size bytes). */
static inline void lines_alloc(uintptr_t p, size_t size) {
    S.last_ptr = p;
    S.last_peak = S.peak;
    S.mine += (int64_t)size;
    int64_t level = lines_level();
    if (level > S.peak) S.peak = level;
    lines_mark(p, size, 1);
}

/* p is freed (or moved) by any thread: its size when the measuring thread allocated it (its mark
 * is removed and the level lowered), else -1. */
static inline int64_t lines_free(uintptr_t p) {
    int64_t size;
    if (sm_fits(p, 0)) {
        Slot *slot = sm_slot(p, 0);
        uint32_t v;
        if (slot == NULL || (v = __atomic_load_n(&slot->size1, __ATOMIC_RELAXED)) == 0) return -1;
        __atomic_store_n(&slot->size1, 0, __ATOMIC_RELAXED);
        size = (int64_t)v - 1;
    } else {
        Owner o;
        mem_lock();
        int found = table_take(p, &o);
        mem_unlock();
        if (!found) return -1;
        size = (int64_t)o.size;
    }
    if (tls.lines_owner) S.mine -= size;
    else __atomic_fetch_add(&S.elsewhere, size, __ATOMIC_RELAXED);
    return size;
}

/* A failed realloc of a block lines_free took: it is tracked again (its leaf is still there). */
static void lines_unfree(uintptr_t p, size_t size) {
    if (tls.lines_owner) {
        S.mine += (int64_t)size;
        int64_t level = lines_level();
        if (level > S.peak) S.peak = level;
    } else {
        __atomic_fetch_sub(&S.elsewhere, (int64_t)size, __ATOMIC_RELAXED);
    }
    lines_mark(p, size, 0);
}

/* A block p of `size` bytes was allocated (`count`: whether it is a new allocation, not a resize). */
static inline void note_alloc(void *p, size_t size, int count) {
    if (__atomic_load_n(&M.lines, __ATOMIC_RELAXED)) {
        if (tls.lines_owner && !tls.busy) lines_alloc((uintptr_t)p, size);
        return;
    }
    mem_lock();
    ThreadMem *tm;
    if (M.active && !tls.busy && (tm = my_frames()) != NULL) {
        MemFrame *f = &tm->frames[tm->depth - 1];
        MemRec *r = &M.recs[f->rec];
        r->allocated += (int64_t)size;
        r->count += count;
        f->level += (int64_t)size;
        if (f->level > f->peak) f->peak = f->level;
        owner_put((uintptr_t)p, size, f->rec);
    }
    mem_unlock();
}

/* A block is about to be freed (or moved by realloc): its owner is credited, the thread's level
 * drops. Returns whether it was tracked (*out: its entry). */
static inline int note_free(void *p, Owner *out) {
    if (__atomic_load_n(&M.lines, __ATOMIC_RELAXED)) {
        int64_t size = lines_free((uintptr_t)p);
        if (size < 0) return 0;
        out->ptr = (uintptr_t)p;
        out->size = (size_t)size;
        out->rec = 0;
        return 1;
    }
    int found = 0;
    mem_lock();
    if (M.active && owner_take((uintptr_t)p, out)) {
        found = 1;
        M.recs[out->rec].freed += (int64_t)out->size;
        ThreadMem *tm = my_frames();
        if (tm != NULL) tm->frames[tm->depth - 1].level -= (int64_t)out->size;
    }
    mem_unlock();
    return found;
}

/* A failed realloc: the block is still there, owned as before. */
static void unfree(void *p, const Owner *o) {
    if (__atomic_load_n(&M.lines, __ATOMIC_RELAXED)) {
        lines_unfree((uintptr_t)p, o->size);
        return;
    }
    mem_lock();
    if (M.active) {
        M.recs[o->rec].freed -= (int64_t)o->size;
        ThreadMem *tm = my_frames();
        if (tm != NULL) tm->frames[tm->depth - 1].level += (int64_t)o->size;
        owner_put((uintptr_t)p, o->size, o->rec);
    }
    mem_unlock();
}

static void *w_malloc(void *ctx, size_t size) {
    PyMemAllocatorEx *prev = &M.prev[(uintptr_t)ctx];
    if (tls.depth) return prev->malloc(prev->ctx, size);
    tls.depth = 1;
    void *p = prev->malloc(prev->ctx, size);
    tls.depth = 0;
    if (p != NULL) note_alloc(p, size, 1);
    return p;
}

static void *w_calloc(void *ctx, size_t n, size_t size) {
    PyMemAllocatorEx *prev = &M.prev[(uintptr_t)ctx];
    if (tls.depth) return prev->calloc(prev->ctx, n, size);
    tls.depth = 1;
    void *p = prev->calloc(prev->ctx, n, size);
    tls.depth = 0;
    if (p != NULL) note_alloc(p, n * size, 1);
    return p;
}

static void *w_realloc(void *ctx, void *old, size_t size) {
    PyMemAllocatorEx *prev = &M.prev[(uintptr_t)ctx];
    if (tls.depth) return prev->realloc(prev->ctx, old, size);
    Owner o;
    int had = old != NULL && note_free(old, &o); /* before the block can go to another thread */
    tls.depth = 1;
    void *p = prev->realloc(prev->ctx, old, size);
    tls.depth = 0;
    if (p == NULL) {
        if (had && size != 0) unfree(old, &o);
        return NULL;
    }
    note_alloc(p, size, old == NULL); /* a resized block is not a new allocation */
    return p;
}

static void w_free(void *ctx, void *p) {
    PyMemAllocatorEx *prev = &M.prev[(uintptr_t)ctx];
    if (p != NULL && !tls.depth) {
        Owner o;
        note_free(p, &o);
    }
    tls.depth++;
    prev->free(prev->ctx, p);
    tls.depth--;
}

/* Releases every thread's frames (under the lock), first passing each open frame's peak on:
 * the period ends as if every running call returned. */
static void drop_threads(void) {
    ThreadMem *tm = M.threads;
    while (tm != NULL) {
        for (Py_ssize_t i = tm->depth - 1; i >= 0; i--) {
            MemFrame *f = &tm->frames[i];
            MemRec *r = &M.recs[f->rec];
            if (f->peak > r->peak) r->peak = f->peak;
            if (i > 0) {
                MemFrame *up = &tm->frames[i - 1];
                if (up->level + f->peak > up->peak) up->peak = up->level + f->peak;
                up->level += f->level;
            }
        }
        ThreadMem *next = tm->next;
        raw_free(tm->frames);
        raw_free(tm);
        tm = next;
    }
    M.threads = NULL;
    M.gen++;
}

/* The record of a node (made on first sight); -1 with an exception on error. GIL held. */
static Py_ssize_t rec_of(PyObject *node) {
    PyObject *slot = PyList_GET_ITEM(node, MEM0);
    if (PyLong_CheckExact(slot)) {
        Py_ssize_t v = PyLong_AsSsize_t(slot);
        if (v > 0 && (size_t)v <= M.nrecs && M.recs[v - 1].node == node) return v - 1;
        if (v == -1 && PyErr_Occurred()) return -1;
    }
    PyObject *index = PyLong_FromSsize_t((Py_ssize_t)M.nrecs + 1);
    if (index == NULL) return -1;
    mem_lock();
    if (M.nrecs == M.caprecs) {
        size_t cap = M.caprecs ? M.caprecs * 2 : 1024;
        MemRec *recs = raw_realloc(M.recs, cap * sizeof(MemRec));
        if (recs == NULL) {
            mem_unlock();
            Py_DECREF(index);
            PyErr_NoMemory();
            return -1;
        }
        M.recs = recs;
        M.caprecs = cap;
    }
    size_t r = M.nrecs++;
    Py_INCREF(node);
    M.recs[r].node = node;
    M.recs[r].allocated = M.recs[r].count = M.recs[r].freed = M.recs[r].peak = 0;
    mem_unlock();
    set_slot(node, MEM0, index);
    return (Py_ssize_t)r;
}

/* The calling thread's frames, registered on first use. NULL with an exception on error. */
static ThreadMem *thread_frames(void) {
    if (tls.tm != NULL && tls.gen == M.gen) return tls.tm;
    ThreadMem *tm = raw_calloc(1, sizeof(ThreadMem));
    if (tm == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    mem_lock();
    tm->next = M.threads;
    M.threads = tm;
    tls.tm = tm;
    tls.gen = M.gen;
    mem_unlock();
    return tm;
}

/* Makes the calling thread's frames mirror `stack` (after an event changed it): the frames above
 * the common part return, the new entries are entered. -1 with an exception on error. */
static int mem_sync(PyObject *stack) {
    ThreadMem *tm = thread_frames();
    if (tm == NULL) return -1;
    Py_ssize_t n = PyList_GET_SIZE(stack);
    Py_ssize_t d = tm->depth < n ? tm->depth : n;
    if (d == n && tm->depth == n && (n == 0 || tm->frames[n - 1].node == PyList_GET_ITEM(stack, n - 1))) return 0;
    while (d > 0 && tm->frames[d - 1].node != PyList_GET_ITEM(stack, d - 1)) d--;
    if (tm->depth > d) {
        mem_lock(); /* records are shared */
        while (tm->depth > d) {
            MemFrame *f = &tm->frames[tm->depth - 1];
            MemRec *r = &M.recs[f->rec];
            if (f->peak > r->peak) r->peak = f->peak;
            if (tm->depth > 1) {
                MemFrame *up = f - 1;
                if (up->level + f->peak > up->peak) up->peak = up->level + f->peak;
                up->level += f->level;
            }
            tm->depth--;
        }
        mem_unlock();
    }
    if (n > tm->cap) {
        Py_ssize_t cap = tm->cap ? tm->cap : 64;
        while (cap < n) cap *= 2;
        MemFrame *frames = raw_realloc(tm->frames, (size_t)cap * sizeof(MemFrame));
        if (frames == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        tm->frames = frames;
        tm->cap = cap;
    }
    while (tm->depth < n) {
        PyObject *node = PyList_GET_ITEM(stack, tm->depth);
        if (!is_node(node)) {
            PyErr_SetString(PyExc_TypeError, "pyxray._accel: a stack entry is not a profile node");
            return -1;
        }
        Py_ssize_t r = rec_of(node);
        if (r < 0) return -1;
        MemFrame *f = &tm->frames[tm->depth];
        f->node = node;
        f->rec = (uint32_t)r;
        f->level = f->peak = 0;
        tm->depth++; /* last: the wrapper charges the top frame */
    }
    return 0;
}

/* fork(): the lock is taken around it, so that the child does not inherit it held by a thread
 * that does not exist there (a child allocating would wait forever). */
static void fork_prepare(void) { mem_lock(); }
static void fork_parent(void) { mem_unlock(); }
static void fork_child(void) { mem_unlock(); }

static int same_allocator(const PyMemAllocatorEx *a, const PyMemAllocatorEx *b) {
    return a->ctx == b->ctx && a->malloc == b->malloc && a->calloc == b->calloc && a->realloc == b->realloc && a->free == b->free;
}

static const PyMemAllocatorDomain mem_domains[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

/* Puts our allocators in place (once; they stay until uninstall_allocators finds them on top).
 * -1 with an exception on error. */
static int install_allocators(void) {
    static int at_fork;
    if (!at_fork) {
        if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "pthread_atfork failed");
            return -1;
        }
        at_fork = 1;
    }
    if (!M.installed) {
        for (int d = 0; d < 3; d++) {
            PyMem_GetAllocator(mem_domains[d], &M.prev[d]);
            M.ours[d].ctx = (void *)(uintptr_t)d;
            M.ours[d].malloc = w_malloc;
            M.ours[d].calloc = w_calloc;
            M.ours[d].realloc = w_realloc;
            M.ours[d].free = w_free;
        }
        for (int d = 0; d < 3; d++) PyMem_SetAllocator(mem_domains[d], &M.ours[d]);
        M.installed = 1;
    }
    return 0;
}

/* The previous allocators are put back when ours are still the ones in place (else, e.g.
 * tracemalloc was started after us and still runs, ours stay, passing everything through, and
 * are reused by the next install). */
static void uninstall_allocators(void) {
    int on_top = 1;
    for (int d = 0; d < 3; d++) {
        PyMemAllocatorEx now;
        PyMem_GetAllocator(mem_domains[d], &now);
        if (!same_allocator(&now, &M.ours[d])) on_top = 0;
    }
    if (on_top) {
        for (int d = 0; d < 3; d++) PyMem_SetAllocator(mem_domains[d], &M.prev[d]);
        M.installed = 0;
    }
}

static void clear_records(void);

/* mem_start(): memory accounting follows this engine's stacks from now on. */
static PyObject *Engine_mem_start(Engine *e, PyObject *unused) {
    if (M.owner != NULL && M.owner != e) {
        PyErr_SetString(PyExc_RuntimeError, "another profile is already measuring memory with the C engine");
        return NULL;
    }
    if (M.lines) {
        PyErr_SetString(PyExc_RuntimeError, "mem lines is measuring memory with the C engine");
        return NULL;
    }
    if (install_allocators() < 0) return NULL;
    if (M.recs_of != e) {
        clear_records(); /* another engine's (a calibration run's, an earlier profile's) */
        M.recs_of = e;
    }
    mem_lock();
    M.active = 1;
    mem_unlock();
    M.owner = e;
    e->memory = 1;
    Py_RETURN_NONE;
}

/* mem_stop(): ends the period (open calls end now); the allocators are put back when ours are
 * still the ones in place (else, e.g. tracemalloc was started after us and still runs, ours stay,
 * passing everything through, and are reused by the next mem_start). */
static PyObject *Engine_mem_stop(Engine *e, PyObject *unused) {
    if (M.owner != e) Py_RETURN_NONE;
    e->memory = 0;
    M.owner = NULL;
    mem_lock();
    M.active = 0;
    drop_threads();
    Owner *table = M.table;
    M.table = NULL;
    M.mask = M.used = 0;
    sm_reset();
    mem_unlock();
    if (table != NULL) raw_free(table);
    uninstall_allocators();
    Py_RETURN_NONE;
}

/* mem_records(): [(node, allocated bytes, allocations, bytes of its blocks freed, peak)] for every
 * node measured so far (over all periods). */
static PyObject *Engine_mem_records(Engine *e, PyObject *unused) {
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    if (M.recs_of != e) return out;
    for (size_t i = 0; i < M.nrecs; i++) {
        MemRec r;
        mem_lock();
        r = M.recs[i];
        mem_unlock();
        PyObject *item = Py_BuildValue("(OLLLL)", r.node, (long long)r.allocated, (long long)r.count, (long long)r.freed, (long long)r.peak);
        if (item == NULL || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(item);
    }
    return out;
}

/* Forgets the records (and releases their nodes); not while measuring. */
static void clear_records(void) {
    mem_lock();
    MemRec *recs = M.recs;
    size_t n = M.nrecs;
    M.recs = NULL;
    M.nrecs = M.caprecs = 0;
    mem_unlock();
    M.recs_of = NULL;
    for (size_t i = 0; i < n; i++) Py_DECREF(recs[i].node);
    if (recs != NULL) raw_free(recs);
}

/* mem_clear(): forgets the records (and their nodes); not while measuring. */
static PyObject *Engine_mem_clear(Engine *e, PyObject *unused) {
    if (M.owner != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "mem_clear() while memory is measured");
        return NULL;
    }
    if (M.recs_of == e) clear_records();
    Py_RETURN_NONE;
}

/* ---- sys.monitoring callbacks (3.12+; callable anywhere) ------------------------------------ */

/* stack.append(node) */
static inline int push(PyObject *stack, PyObject *node) {
    Py_ssize_t n = PyList_GET_SIZE(stack);
    if (n < ((PyListObject *)stack)->allocated) { /* room left: what list.append does, inline */
        Py_INCREF(node);
        PyList_SET_ITEM(stack, n, node);
        Py_SET_SIZE(stack, n + 1);
        return 0;
    }
    return PyList_Append(stack, node);
}

static inline int enter(Engine *e, PyObject *stack, PyObject *node) {
    if (incr(node, CALLS) < 0) return -1;
    if (push(stack, node) < 0) return -1;
    double t;
    if (now(e, &t) < 0) return -1; /* last: the bookkeeping above is the caller's time */
    return set_float(node, T0, t);
}

/* The node on top of the stack returns at time t: its total grows by t - its entry time and it
 * leaves the stack. */
static inline int leave_top(PyObject *stack, PyObject *node, double t) {
    double t0;
    if (float_of(PyList_GET_ITEM(node, T0), &t0) < 0) return -1;
    if (add_float(node, TOTAL, t - t0) < 0) return -1;
    pop(stack);
    return 0;
}

/* Calls the slow path new_builtin(stack, top, key), which makes a builtin's node, and releases key. */
static PyObject *call_new_builtin(Engine *e, PyObject *stack, PyObject *top, PyObject *key) {
    PyObject *args[3] = {stack, top, key};
    Py_INCREF(stack);
    Py_INCREF(top);
    PyObject *out = PyObject_Vectorcall(e->new_builtin, args, 3, NULL);
    Py_DECREF(top);
    Py_DECREF(stack);
    Py_DECREF(key);
    return out;
}

/* start(code, offset): PY_START, PY_RESUME */
static PyObject *impl_start(Engine *e, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "start(code, offset)");
        return NULL;
    }
    PyObject *code = args[0];
    PyObject *stack = thread_stack(e);
    if (stack == NULL) return NULL;
    PyObject *top = top_of(stack);
    if (top == NULL) return NULL;
    PyObject *node = find_child(e, top, code, NULL, id_key, code);
    if (node == NULL) {
        if (PyErr_Occurred()) return NULL;
        return call_slow(e->slow_start, stack, code, NULL);
    }
    if (enter(e, stack, node) < 0) return NULL;
    Py_RETURN_NONE;
}

/* throw(code, offset, exc): PY_THROW (cannot be disabled: the result is dropped) */
static PyObject *impl_throw(Engine *e, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *out = impl_start(e, args, nargs);
    if (out == NULL) return NULL;
    Py_DECREF(out);
    Py_RETURN_NONE;
}

/* ret(code, offset, value): PY_RETURN, PY_YIELD */
static PyObject *impl_ret(Engine *e, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "ret(code, offset, value)");
        return NULL;
    }
    double t;
    if (now(e, &t) < 0) return NULL; /* first: the bookkeeping below is the caller's time */
    PyObject *code = args[0];
    PyObject *stack = thread_stack(e);
    if (stack == NULL) return NULL;
    PyObject *node = top_of(stack);
    if (node == NULL) return NULL;
    if (PyList_GET_ITEM(node, KEY) == code) {
        if (leave_top(stack, node, t) < 0) return NULL;
        Py_RETURN_NONE;
    }
    return call_slow_t(e->slow_return, stack, code, t);
}

/* unwind(code, offset, exc): PY_UNWIND (cannot be disabled) */
static PyObject *impl_unwind(Engine *e, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *out = impl_ret(e, args, nargs);
    if (out == NULL) return NULL;
    Py_DECREF(out);
    Py_RETURN_NONE;
}

static int is_builtin_callable(PyObject *func) {
    PyTypeObject *tp = Py_TYPE(func);
    return tp == &PyMethodDescr_Type || tp == &PyCFunction_Type;
}

/* call(code, offset, func, arg0): CALL */
static PyObject *impl_call(Engine *e, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 3) {
        PyErr_SetString(PyExc_TypeError, "call(code, offset, func, arg0)");
        return NULL;
    }
    PyObject *code = args[0], *func = args[2];
    if (!is_builtin_callable(func)) Py_RETURN_NONE; /* a Python function (its PY_START follows), a class... */
    PyObject *stack = thread_stack(e);
    if (stack == NULL) return NULL;
    PyObject *top = top_of(stack);
    if (top == NULL) return NULL;
    int quiet = PyObject_IsTrue(PyList_GET_ITEM(top, QUIET));
    if (quiet < 0) return NULL;
    if (PyList_GET_ITEM(top, KEY) != code || quiet) return call_slow(e->slow_call, stack, code, func);
    PyObject *node;
    int tuple = bound_to_instance(func);
    if (tuple) {
        PyObject *type = owner_type(PyCFunction_GET_SELF(func));
        node = find_child(e, top, ((PyCFunctionObject *)func)->m_ml, type, tuple_key, func);
    } else {
        node = find_child(e, top, func, NULL, self_key, func);
    }
    if (node == NULL) {
        if (PyErr_Occurred()) return NULL;
        PyObject *key = tuple ? tuple_key(func) : self_key(func);
        if (key == NULL) return NULL;
        return call_new_builtin(e, stack, top, key);
    }
    if (enter(e, stack, node) < 0) return NULL;
    Py_RETURN_NONE;
}

/* c_ret(code, offset, func, arg0): C_RETURN */
static PyObject *impl_c_ret(Engine *e, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 3) {
        PyErr_SetString(PyExc_TypeError, "c_ret(code, offset, func, arg0)");
        return NULL;
    }
    PyObject *func = args[2];
    PyObject *stack = thread_stack(e);
    if (stack == NULL) return NULL;
    PyObject *node = top_of(stack);
    if (node == NULL) return NULL;
    PyObject *key = PyList_GET_ITEM(node, KEY);
    double t;
    if (key == func) { /* the builtin on top returns */
        if (now(e, &t) < 0) return NULL;
        goto leave;
    }
    if (!is_builtin_callable(func)) Py_RETURN_NONE; /* C_RETURN follows every call made in C */
    if (now(e, &t) < 0) return NULL;
    if (!bound_to_instance(func)) return call_slow_t(e->slow_c_return, stack, func, t);
    /* A (type, name) key: as _slow_c_return, without building the key. */
    {
        PyObject *type = owner_type(PyCFunction_GET_SELF(func));
        if (!(PyTuple_CheckExact(key) && PyTuple_GET_SIZE(key) == 2 && PyTuple_GET_ITEM(key, 0) == type)) Py_RETURN_NONE;
        PyObject *name = PyTuple_GET_ITEM(key, 1);
        if (!PyUnicode_Check(name) || PyUnicode_CompareWithASCIIString(name, ((PyCFunctionObject *)func)->m_ml->ml_name) != 0) Py_RETURN_NONE;
    }
leave:
    if (leave_top(stack, node, t) < 0) return NULL;
    Py_RETURN_NONE;
}

/* c_raise(code, offset, func, arg0): C_RAISE */
static PyObject *impl_c_raise(Engine *e, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *out = impl_c_ret(e, args, nargs);
    if (out == NULL) return NULL;
    Py_DECREF(out);
    Py_RETURN_NONE;
}


/* The callbacks: in memory mode the profiler's own work is not charged to the program (tls.busy),
 * and the thread's memory frames follow its stack once the event is handled. */
static inline PyObject *mem_after(Engine *e, PyObject *out, int was) {
    if (out != NULL) {
        PyObject *stack = thread_stack(e);
        if (stack == NULL || mem_sync(stack) < 0) Py_CLEAR(out);
    }
    tls.busy = was;
    return out;
}

#define CALLBACK(name) \
    static PyObject *Engine_##name(Engine *e, PyObject *const *args, Py_ssize_t nargs) { \
        if (!e->memory) return impl_##name(e, args, nargs); \
        int was = tls.busy; \
        tls.busy = 1; \
        return mem_after(e, impl_##name(e, args, nargs), was); \
    }
CALLBACK(start)
CALLBACK(throw)
CALLBACK(ret)
CALLBACK(unwind)
CALLBACK(call)
CALLBACK(c_ret)
CALLBACK(c_raise)
#undef CALLBACK

/* ---- the setprofile hook (3.8-3.11) ----------------------------------------------------------- */

/* One event, as SetprofileTracer._make_callback's callback: 0 or -1 with an exception. */
static int hook_event(Hook *h, PyFrameObject *frame, int what, PyObject *arg) {
    Engine *e = h->engine;
    PyObject *stack = h->stack;
    double t;
    if (what == PyTrace_CALL) {
        PyObject *top = top_of(stack);
        if (top == NULL) return -1;
        PyCodeObject *code = get_code(frame);
        PyObject *node = find_child(e, top, code, NULL, id_key, (PyObject *)code);
        Py_DECREF(code); /* the frame keeps it */
        if (node == NULL) {
            if (PyErr_Occurred()) return -1;
            PyObject *out = call_slow(e->slow_call, stack, (PyObject *)frame, NULL);
            Py_XDECREF(out);
            return out == NULL ? -1 : 0;
        }
        if (incr(node, CALLS) < 0 || push(stack, node) < 0) return -1;
        if (now(e, &t) < 0) return -1; /* TOTAL -= entry time, last */
        return add_float(node, TOTAL, -t);
    }
    if (what == PyTrace_C_CALL) {
        PyObject *top = top_of(stack);
        if (top == NULL) return -1;
        int quiet = PyObject_IsTrue(PyList_GET_ITEM(top, QUIET));
        if (quiet < 0) return -1;
        if (quiet || !e->builtins) { /* builtins called by library code fold into it */
            if (incr(top, HIDDEN_CALLS) < 0) return -1;
            PyObject *sink = PyList_GET_ITEM(top, SINK);
            if (sink == Py_None) {
                PyObject *out = call_slow(e->push_sink, stack, top, NULL);
                Py_XDECREF(out);
                return out == NULL ? -1 : 0;
            }
            return push(stack, sink);
        }
        PyCodeObject *code = get_code(frame);
        int other = (PyObject *)code != PyList_GET_ITEM(top, KEY);
        Py_DECREF(code);
        if (other) {
            PyObject *args2[4] = {stack, top, (PyObject *)frame, arg};
            Py_INCREF(stack);
            Py_INCREF(top);
            PyObject *out = PyObject_Vectorcall(e->slow_c_call, args2, 4, NULL);
            Py_DECREF(top);
            Py_DECREF(stack);
            Py_XDECREF(out);
            return out == NULL ? -1 : 0;
        }
        PyObject *node;
        PyObject *key = NULL;
        if (PyCFunction_Check(arg)) {
            if (bound_to_instance(arg)) {
                PyObject *type = owner_type(PyCFunction_GET_SELF(arg));
                node = find_child(e, top, ((PyCFunctionObject *)arg)->m_ml, type, tuple_key, arg);
                if (node == NULL && !PyErr_Occurred()) key = tuple_key(arg);
            } else {
                node = find_child(e, top, arg, NULL, self_key, arg);
                if (node == NULL && !PyErr_Occurred()) key = self_key(arg);
            }
            if (node == NULL && key == NULL) return -1;
        } else { /* not a C function: the key the Python callback computes, through attributes */
            PyObject *owner = PyObject_GetAttrString(arg, "__self__");
            if (owner == NULL) return -1;
            if (owner == Py_None || Py_TYPE(owner) == &PyModule_Type) {
                key = self_key(arg);
            } else {
                PyObject *name = PyObject_GetAttrString(arg, "__name__");
                if (name != NULL) {
                    key = PyTuple_Pack(2, owner_type(owner), name);
                    Py_DECREF(name);
                }
            }
            Py_DECREF(owner);
            if (key == NULL) return -1;
            node = PyDict_GetItemWithError(PyList_GET_ITEM(top, CHILDREN), key);
            if (node == NULL && PyErr_Occurred()) {
                Py_DECREF(key);
                return -1;
            }
            if (node != NULL) Py_CLEAR(key);
        }
        if (node == NULL) {
            PyObject *out = call_new_builtin(e, stack, top, key);
            Py_XDECREF(out);
            return out == NULL ? -1 : 0;
        }
        if (incr(node, CALLS) < 0 || push(stack, node) < 0) return -1;
        if (now(e, &t) < 0) return -1;
        return add_float(node, TOTAL, -t);
    }
    if (what == PyTrace_RETURN || what == PyTrace_C_RETURN || what == PyTrace_C_EXCEPTION) {
        Py_ssize_t n = PyList_GET_SIZE(stack);
        if (n == 0) {
            PyErr_SetString(PyExc_IndexError, "pop from empty list");
            return -1;
        }
        PyObject *node = PyList_GET_ITEM(stack, n - 1);
        Py_INCREF(node);
        pop(stack);
        int failed = now(e, &t) < 0 || !is_node(node) || add_float(node, TOTAL, t) < 0; /* TOTAL += exit time */
        if (failed && !PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "pyxray._accel: a stack entry is not a profile node");
        Py_DECREF(node);
        return failed ? -1 : 0;
    }
    return 0;
}

/* The C profile function: an error removes the hook, as Python does for a profile function. */
static int hook_event_mem(Hook *h, PyFrameObject *frame, int what, PyObject *arg) {
    if (!h->engine->memory) return hook_event(h, frame, what, arg);
    int was = tls.busy;
    tls.busy = 1;
    int rc = hook_event(h, frame, what, arg);
    if (rc == 0 && h->engine->memory) rc = mem_sync(h->stack);
    tls.busy = was;
    return rc;
}

static int profile_func(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    if (hook_event_mem((Hook *)obj, frame, what, arg == NULL ? Py_None : arg) == 0) return 0;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyEval_SetProfile(NULL, NULL);
    PyErr_Restore(type, value, tb);
    return -1;
}

/* hook(frame, event, arg): the same from Python (a thread's first event, seen by a Python hook). */
static PyObject *Hook_call(Hook *h, PyObject *args, PyObject *kwargs) {
    PyObject *frame, *arg;
    const char *event;
    if (!PyArg_ParseTuple(args, "O!sO", &PyFrame_Type, &frame, &event, &arg)) return NULL;
    int what;
    if (strcmp(event, "call") == 0) what = PyTrace_CALL;
    else if (strcmp(event, "c_call") == 0) what = PyTrace_C_CALL;
    else if (strcmp(event, "return") == 0) what = PyTrace_RETURN;
    else if (strcmp(event, "c_return") == 0) what = PyTrace_C_RETURN;
    else if (strcmp(event, "c_exception") == 0) what = PyTrace_C_EXCEPTION;
    else Py_RETURN_NONE;
    if (hook_event_mem(h, (PyFrameObject *)frame, what, arg) < 0) return NULL;
    Py_RETURN_NONE;
}

static int Hook_traverse(Hook *h, visitproc visit, void *arg) {
    Py_VISIT(h->engine);
    Py_VISIT(h->stack);
    return 0;
}

static int Hook_clear(Hook *h) {
    Py_CLEAR(h->engine);
    Py_CLEAR(h->stack);
    return 0;
}

static void Hook_dealloc(Hook *h) {
    PyObject_GC_UnTrack(h);
    Hook_clear(h);
    Py_TYPE(h)->tp_free((PyObject *)h);
}

static PyTypeObject HookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyxray._accel.Hook",
    .tp_basicsize = sizeof(Hook),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A thread's setprofile hook: the engine and the thread's stack.",
    .tp_call = (ternaryfunc)Hook_call,
    .tp_traverse = (traverseproc)Hook_traverse,
    .tp_clear = (inquiry)Hook_clear,
    .tp_dealloc = (destructor)Hook_dealloc,
};

static PyObject *Engine_hook(Engine *e, PyObject *stack) {
    if (!PyList_CheckExact(stack)) {
        PyErr_SetString(PyExc_TypeError, "hook(stack): stack must be a list");
        return NULL;
    }
    Hook *h = PyObject_GC_New(Hook, &HookType);
    if (h == NULL) return NULL;
    Py_INCREF(e);
    Py_INCREF(stack);
    h->engine = e;
    h->stack = stack;
    PyObject_GC_Track(h);
    return (PyObject *)h;
}

/* solo(stack or None): the stack every event uses while the program has one thread (None: look
 * the thread's stack up), as the Python engine's single-thread callbacks. */
static PyObject *Engine_solo(Engine *e, PyObject *stack) {
    if (stack != Py_None && !PyList_CheckExact(stack)) {
        PyErr_SetString(PyExc_TypeError, "solo(stack): a list or None");
        return NULL;
    }
    PyObject *old = e->solo_stack;
    if (stack == Py_None) {
        e->solo_stack = NULL;
    } else {
        Py_INCREF(stack);
        e->solo_stack = stack;
    }
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

/* ---- the Engine type ------------------------------------------------------------------------ */

static int Engine_init(Engine *e, PyObject *args, PyObject *kwargs) {
    int clock_id, builtins;
    PyObject *clock, *stack_of, *slots[7];
    if (!PyArg_ParseTuple(args, "iOOpOOOOOOO:Engine", &clock_id, &clock, &stack_of, &builtins, &slots[0], &slots[1], &slots[2], &slots[3], &slots[4], &slots[5], &slots[6]))
        return -1;
    if (!PyCallable_Check(clock)) {
        PyErr_SetString(PyExc_TypeError, "Engine: clock must be callable");
        return -1;
    }
    e->clock_id = clock_id;
    e->builtins = builtins;
    Py_INCREF(clock);
    Py_XSETREF(e->clock, clock);
    Py_INCREF(stack_of);
    Py_XSETREF(e->stack_of, stack_of);
    PyObject **fields[7] = {&e->slow_start, &e->slow_return, &e->slow_call, &e->new_builtin, &e->slow_c_return, &e->slow_c_call, &e->push_sink};
    for (int i = 0; i < 7; i++) {
        Py_INCREF(slots[i]);
        Py_XSETREF(*fields[i], slots[i]);
    }
    if (e->stacks == NULL && (e->stacks = PyDict_New()) == NULL) return -1;
    if (e->cache == NULL) {
        e->cache = PyMem_Calloc(CACHE_SIZE, sizeof(CacheEntry));
        if (e->cache == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static int Engine_traverse(Engine *e, visitproc visit, void *arg) {
    Py_VISIT(e->clock);
    Py_VISIT(e->stack_of);
    Py_VISIT(e->slow_start);
    Py_VISIT(e->slow_return);
    Py_VISIT(e->slow_call);
    Py_VISIT(e->new_builtin);
    Py_VISIT(e->slow_c_return);
    Py_VISIT(e->slow_c_call);
    Py_VISIT(e->push_sink);
    Py_VISIT(e->stacks);
    Py_VISIT(e->solo_stack);
    if (e->cache != NULL) {
        for (size_t i = 0; i < CACHE_SIZE; i++) {
            Py_VISIT(e->cache[i].parent);
            Py_VISIT(e->cache[i].child);
        }
    }
    return 0;
}

static int Engine_clear(Engine *e) {
    cache_clear(e);
    e->last_stack = NULL;
    Py_CLEAR(e->clock);
    Py_CLEAR(e->stack_of);
    Py_CLEAR(e->slow_start);
    Py_CLEAR(e->slow_return);
    Py_CLEAR(e->slow_call);
    Py_CLEAR(e->new_builtin);
    Py_CLEAR(e->slow_c_return);
    Py_CLEAR(e->slow_c_call);
    Py_CLEAR(e->push_sink);
    Py_CLEAR(e->stacks);
    Py_CLEAR(e->solo_stack);
    return 0;
}

static void Engine_dealloc(Engine *e) {
    PyObject_GC_UnTrack(e);
    if (M.owner == e) {
        PyObject *out = Engine_mem_stop(e, NULL);
        Py_XDECREF(out);
    }
    if (M.recs_of == e) clear_records();
    Engine_clear(e);
    PyMem_Free(e->cache);
    e->cache = NULL;
    Py_TYPE(e)->tp_free((PyObject *)e);
}

static PyMethodDef Engine_methods[] = {
    {"start", (PyCFunction)(void (*)(void))Engine_start, METH_FASTCALL, "PY_START / PY_RESUME callback."},
    {"throw", (PyCFunction)(void (*)(void))Engine_throw, METH_FASTCALL, "PY_THROW callback."},
    {"ret", (PyCFunction)(void (*)(void))Engine_ret, METH_FASTCALL, "PY_RETURN / PY_YIELD callback."},
    {"unwind", (PyCFunction)(void (*)(void))Engine_unwind, METH_FASTCALL, "PY_UNWIND callback."},
    {"call", (PyCFunction)(void (*)(void))Engine_call, METH_FASTCALL, "CALL callback."},
    {"c_ret", (PyCFunction)(void (*)(void))Engine_c_ret, METH_FASTCALL, "C_RETURN callback."},
    {"c_raise", (PyCFunction)(void (*)(void))Engine_c_raise, METH_FASTCALL, "C_RAISE callback."},
    {"mem_start", (PyCFunction)Engine_mem_start, METH_NOARGS, "mem_start(): memory accounting (allocator wrapper) follows this engine's stacks."},
    {"mem_stop", (PyCFunction)Engine_mem_stop, METH_NOARGS, "mem_stop(): ends memory accounting (open calls end now)."},
    {"mem_records", (PyCFunction)Engine_mem_records, METH_NOARGS, "mem_records(): [(node, allocated, count, freed, peak)]."},
    {"mem_clear", (PyCFunction)Engine_mem_clear, METH_NOARGS, "mem_clear(): forgets the memory records."},
    {"solo", (PyCFunction)Engine_solo, METH_O, "solo(stack): the stack of the only thread (None: look stacks up)."},
    {"hook", (PyCFunction)Engine_hook, METH_O, "hook(stack): a setprofile hook for one thread's stack."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyxray._accel.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The trace-mode hot path (see the module source).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Engine_init,
    .tp_traverse = (traverseproc)Engine_traverse,
    .tp_clear = (inquiry)Engine_clear,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_methods = Engine_methods,
};


/* ---- line mode (`mem lines` on 3.12+) ---------------------------------------------------------
 *
 * The allocator wrapper without call nodes: blocks the measuring thread allocates (outside these
 * callbacks) raise one running level (lines_level(), and its peak S.peak), and are marked in the
 * size map, so that their frees, by any thread, lower it. The sys.monitoring callbacks below are the C form
 * of pyxray.memory._lines._Monitor, with the same arithmetic: at each LINE event of the target's
 * frames on the measuring thread, the level change since the previous line event of the same
 * frame is that line's net, and the peak since then above its starting level its rise. What the
 * interpreter allocates for the event itself (the int of a line number or offset beyond the cached
 * small ints, made just before the call) is taken back, so nothing needs calibrating. */

typedef struct {
    int64_t hits, net, peak;
} LineRow;

typedef struct {
    int line;               /* -1: started, no line yet */
    int64_t start;          /* the level when the line began */
} LineFrame;

static struct {
    PyObject *code;         /* strong reference while measuring */
    PyObject *disable;      /* sys.monitoring.DISABLE */
    unsigned long ident;    /* the measuring thread */
    int64_t calls;
    LineRow *rows;          /* rows[line - base] */
    int base;
    Py_ssize_t nrows;
    LineFrame *frames;
    Py_ssize_t depth, cap;
} L;

/* The row of a line, the array grown (either way) to hold it; NULL when memory ran out. */
static LineRow *line_row(int line) {
    if (L.rows == NULL) {
        L.rows = raw_calloc(64, sizeof(LineRow));
        if (L.rows == NULL) return NULL;
        L.base = line;
        L.nrows = 64;
    }
    if (line < L.base) {
        Py_ssize_t shift = (Py_ssize_t)(L.base - line) + 64, n = L.nrows + shift;
        LineRow *rows = raw_calloc((size_t)n, sizeof(LineRow));
        if (rows == NULL) return NULL;
        memcpy(rows + shift, L.rows, (size_t)L.nrows * sizeof(LineRow));
        raw_free(L.rows);
        L.rows = rows;
        L.nrows = n;
        L.base -= (int)shift;
    } else if ((Py_ssize_t)(line - L.base) >= L.nrows) {
        Py_ssize_t n = L.nrows * 2;
        while (n <= (Py_ssize_t)(line - L.base)) n *= 2;
        LineRow *rows = raw_realloc(L.rows, (size_t)n * sizeof(LineRow));
        if (rows == NULL) return NULL;
        memset(rows + L.nrows, 0, (size_t)(n - L.nrows) * sizeof(LineRow));
        L.rows = rows;
        L.nrows = n;
    }
    return &L.rows[line - L.base];
}

/* The level and peak now, without the interpreter's allocation for this event's int argument. */
static inline void line_reading(PyObject *arg, int64_t *now, int64_t *peak) {
    if (arg != NULL && S.last_ptr == (uintptr_t)arg) {
        if (lines_free((uintptr_t)arg) >= 0) {
            int64_t level = lines_level();
            S.peak = S.last_peak > level ? S.last_peak : level;
        }
        S.last_ptr = 0;
    }
    *now = lines_level();
    *peak = S.peak;
}

/* The line that just ran in frame f is charged with the level change since it began. */
static inline void line_close(LineFrame *f, int64_t now, int64_t peak) {
    if (f->line < 0) return;
    LineRow *row = line_row(f->line);
    if (row == NULL) return;
    int64_t delta = now - f->start, high = peak - f->start;
    if (delta > high) high = delta;
    int64_t level = row->net + high;
    row->net += delta;
    if (level > row->peak) row->peak = level;
}

static inline int line_mine(void) { return L.code != NULL && PyThread_get_thread_ident() == L.ident; }

/* LINE(code, line_number) */
static PyObject *mod_lines_line(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2) Py_RETURN_NONE;
    if (args[0] != L.code) {
        PyObject *out = L.disable != NULL ? L.disable : Py_None;
        Py_INCREF(out);
        return out;
    }
    if (L.depth == 0 || !line_mine()) Py_RETURN_NONE;
    int64_t now, peak;
    line_reading(args[1], &now, &peak);
    int line = (int)PyLong_AsLong(args[1]);
    if (line == -1 && PyErr_Occurred()) return NULL;
    LineFrame *f = &L.frames[L.depth - 1];
    line_close(f, now, peak);
    f->line = line;
    LineRow *row = line_row(line);
    if (row != NULL) row->hits++;
    f->start = now;
    S.peak = now; /* reset_peak */
    Py_RETURN_NONE;
}

static PyObject *lines_enter(PyObject *offset) {
    if (!line_mine()) Py_RETURN_NONE;
    int64_t now, peak;
    line_reading(offset, &now, &peak);
    L.calls++;
    if (L.depth == L.cap) {
        Py_ssize_t cap = L.cap ? L.cap * 2 : 64;
        LineFrame *frames = raw_realloc(L.frames, (size_t)cap * sizeof(LineFrame));
        if (frames == NULL) return PyErr_NoMemory();
        L.frames = frames;
        L.cap = cap;
    }
    L.frames[L.depth].line = -1;
    L.frames[L.depth].start = 0;
    L.depth++;
    Py_RETURN_NONE;
}

static PyObject *lines_leave(PyObject *offset) {
    if (L.depth == 0 || !line_mine()) Py_RETURN_NONE;
    int64_t now, peak;
    line_reading(offset, &now, &peak);
    line_close(&L.frames[--L.depth], now, peak);
    Py_RETURN_NONE;
}

/* PY_START / PY_RESUME(code, offset) */
static PyObject *mod_lines_start(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2 || args[0] != L.code) Py_RETURN_NONE;
    return lines_enter(args[1]);
}

/* PY_RETURN / PY_YIELD(code, offset, value) */
static PyObject *mod_lines_return(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2 || args[0] != L.code) Py_RETURN_NONE;
    return lines_leave(args[1]);
}

/* PY_UNWIND(code, offset, exc): a global event, any code */
static PyObject *mod_lines_unwind(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2 || args[0] != L.code) Py_RETURN_NONE;
    return lines_leave(args[1]);
}

/* PY_THROW(code, offset, exc): a global event, any code */
static PyObject *mod_lines_throw(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2 || args[0] != L.code) Py_RETURN_NONE;
    return lines_enter(args[1]);
}

/* lines_begin(code, disable): line mode measures the calling thread's frames of `code`. */
static PyObject *mod_lines_begin(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyCode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "lines_begin(code, disable)");
        return NULL;
    }
    if (M.owner != NULL || L.code != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "memory is already measured with the C engine");
        return NULL;
    }
    if (install_allocators() < 0) return NULL;
    Py_INCREF(args[0]);
    Py_INCREF(args[1]);
    L.code = args[0];
    L.disable = args[1];
    L.ident = PyThread_get_thread_ident();
    L.calls = 0;
    L.depth = 0;
    if (L.rows != NULL) memset(L.rows, 0, (size_t)L.nrows * sizeof(LineRow));
    tls.lines_owner = 1;
    S.mine = S.peak = 0;
    __atomic_store_n(&S.elsewhere, 0, __ATOMIC_RELAXED);
    S.last_ptr = 0;
    mem_lock();
    __atomic_store_n(&M.lines, 1, __ATOMIC_RELEASE);
    mem_unlock();
    Py_RETURN_NONE;
}

/* lines_end(): (calls, [(line, hits, net bytes, peak bytes)] of every line that ran). */
static PyObject *mod_lines_end(PyObject *module, PyObject *unused) {
    if (L.code == NULL) Py_RETURN_NONE;
    mem_lock();
    __atomic_store_n(&M.lines, 0, __ATOMIC_RELEASE);
    Owner *table = M.table;
    M.table = NULL;
    M.mask = M.used = 0;
    mem_unlock();
    if (table != NULL) raw_free(table);
    tls.lines_owner = 0;
    sm_reset();
    uninstall_allocators();
    Py_CLEAR(L.code);
    Py_CLEAR(L.disable);
    PyObject *rows = PyList_New(0);
    if (rows == NULL) return NULL;
    for (Py_ssize_t i = 0; i < L.nrows; i++) {
        LineRow *r = &L.rows[i];
        if (r->hits == 0 && r->net == 0 && r->peak == 0) continue;
        PyObject *item = Py_BuildValue("(iLLL)", L.base + (int)i, (long long)r->hits, (long long)r->net, (long long)r->peak);
        if (item == NULL || PyList_Append(rows, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(rows);
            return NULL;
        }
        Py_DECREF(item);
    }
    return Py_BuildValue("(LN)", (long long)L.calls, rows);
}

/* ---- the module ------------------------------------------------------------------------------ */

static PyObject *mod_setprofile(PyObject *module, PyObject *hook) {
    if (hook == Py_None) {
        PyEval_SetProfile(NULL, NULL);
    } else if (Py_TYPE(hook) == &HookType) {
        PyEval_SetProfile(profile_func, hook);
    } else {
        PyErr_SetString(PyExc_TypeError, "setprofile(hook): a Hook or None");
        return NULL;
    }
    if (PyErr_Occurred()) return NULL; /* an audit hook refused */
    Py_RETURN_NONE;
}

#include "_accel_sigprof.c" /* sample mode: where a running thread is (3.10+, Linux) */

static PyMethodDef module_methods[] = {
    {"setprofile", (PyCFunction)mod_setprofile, METH_O, "setprofile(hook): installs a Hook as the calling thread's C profile function (None removes it)."},
    {"lines_begin", (PyCFunction)(void (*)(void))mod_lines_begin, METH_FASTCALL, "lines_begin(code, disable): line mode measures the calling thread's frames of code."},
    {"lines_end", (PyCFunction)mod_lines_end, METH_NOARGS, "lines_end(): (calls, [(line, hits, net, peak)])."},
    {"lines_line", (PyCFunction)(void (*)(void))mod_lines_line, METH_FASTCALL, "LINE callback of line mode."},
    {"lines_start", (PyCFunction)(void (*)(void))mod_lines_start, METH_FASTCALL, "PY_START / PY_RESUME callback of line mode."},
    {"lines_return", (PyCFunction)(void (*)(void))mod_lines_return, METH_FASTCALL, "PY_RETURN / PY_YIELD callback of line mode."},
    {"lines_unwind", (PyCFunction)(void (*)(void))mod_lines_unwind, METH_FASTCALL, "PY_UNWIND callback of line mode."},
    {"lines_throw", (PyCFunction)(void (*)(void))mod_lines_throw, METH_FASTCALL, "PY_THROW callback of line mode."},
    SIGPROF_METHODS
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_accel", "pyxray's optional C trace-mode engine.", -1, module_methods,
    NULL, NULL, NULL, NULL, /* m_slots, m_traverse, m_clear, m_free */
};

PyMODINIT_FUNC PyInit__accel(void) {
    if (PyType_Ready(&EngineType) < 0 || PyType_Ready(&HookType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) return NULL;
    Py_INCREF(&EngineType);
    if (PyModule_AddObject(m, "Engine", (PyObject *)&EngineType) < 0) {
        Py_DECREF(&EngineType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&HookType);
    if (PyModule_AddObject(m, "Hook", (PyObject *)&HookType) < 0) {
        Py_DECREF(&HookType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "CACHE_SIZE", CACHE_SIZE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
