/*
 * pyxray._accel, part 2 (included by _accel.c, built with it): where a running thread really is, for
 * sample mode's instruction-level samples on CPython 3.10+ (see _profile_sample.py).
 *
 * The sampler thread sees a thread only when that thread lets the GIL go, and from 3.10 that is
 * only at calls, backward jumps and function starts, so its f_lasti then names the loop's
 * JUMP_BACKWARD, not the slow BINARY_OP before it. Here each sampled thread gets a timer on its own
 * CPU clock (timer_create on pthread_getcpuclockid, SIGEV_THREAD_ID: Linux) that sends SIGPROF to
 * that very thread every interval of CPU time it uses. The handler runs on the interrupted thread
 * and copies three words of its innermost frame into the thread's slot: the frame's address, its
 * code object's address and its instruction pointer (3.10: f_lasti). The sampler thread, holding
 * the GIL, takes the slot (sigprof_take) and uses its offset instead of f_lasti when the slot is
 * new since its last tick and names the same frame and code object that are innermost now.
 *
 * Safety: the handler calls nothing but PyGILState_GetThisThreadState (a pthread_getspecific) and
 * only reads memory that the interrupted thread itself owns and is not freeing: its thread state
 * (checked to be the one the slot was armed for, so never a freed one: a thread state is unbound
 * from the thread before it is freed) and the frame the thread state names as innermost (unlinked
 * before it is cleared on every version). It never dereferences the code object or the
 * instruction pointer: the sampler compares and computes with the GIL held, and refuses an offset
 * outside the code. A slot is a seqlock (odd while written). The slots are static (never freed, so
 * a handler still running on one thread while another stops the sampler writes to valid memory).
 *
 * Layouts (the interpreters' own headers, Include/internal/pycore_frame.h and
 * pycore_interpframe_structs.h; the tests compare the result with the planted instruction on
 * every version):
 *   3.10      tstate->frame (PyFrameObject, public): f_code, f_lasti (code units)
 *   3.11      tstate->cframe->current_frame: word 4 f_code, word 7 prev_instr
 *   3.12      tstate->cframe->current_frame: word 0 f_code, word 7 prev_instr
 *   3.13      tstate->current_frame: word 0 f_executable, word 7 instr_ptr
 *   3.14-3.15 tstate->current_frame: word 0 f_executable (a tagged _PyStackRef: low bits cleared),
 *             word 7 instr_ptr
 * prev_instr / instr_ptr is stored at the start of every instruction (3.11/3.12: INSTRUCTION_START;
 * 3.13+: each case's `frame->instr_ptr = next_instr`), and f_lasti at every dispatch on 3.10, so
 * while an instruction runs it names that instruction.
 *
 * Where there is no such timer (not Linux), or SIGPROF is already handled by the program or
 * another profiler, sigprof_start says why and the sampler keeps f_lasti.
 */
#if PY_VERSION_HEX >= 0x030A0000 && defined(__linux__)
#define PYXRAY_SIGPROF 1
#include <signal.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define SIGPROF_SLOTS 256

typedef struct {
    /* written by the sampler thread with the GIL (while the slot is not armed) */
    PyThreadState *tstate;
    unsigned long ident;
    timer_t timer;
    int armed;
    /* written by the handler on the slot's thread */
    unsigned long seq; /* odd while the handler writes */
    const void *frame;
    const void *code;
    intptr_t where; /* the instruction pointer (3.11+), or f_lasti in code units (3.10) */
    /* the sampler thread's */
    unsigned long taken;
} SigprofSlot;

static SigprofSlot sigprof_slots[SIGPROF_SLOTS];
static int sigprof_used = 0;
static int sigprof_on = 0;
static long long sigprof_interval_ns = 0;
static struct sigaction sigprof_previous;

/* The innermost frame of `ts` (its address, its code object's, and where it is). */
static int sigprof_read(PyThreadState *ts, const void **frame, const void **code, intptr_t *where) {
#if PY_VERSION_HEX < 0x030B0000
    PyFrameObject *f = ts->frame;
    if (f == NULL) return 0;
    *frame = f;
    *code = f->f_code;
    *where = f->f_lasti;
#else
#if PY_VERSION_HEX < 0x030D0000
    if (ts->cframe == NULL) return 0;
    void *const *f = (void *const *)ts->cframe->current_frame;
#else
    void *const *f = (void *const *)ts->current_frame;
#endif
    if (f == NULL) return 0;
    *frame = f;
#if PY_VERSION_HEX < 0x030C0000
    *code = f[4];
#elif PY_VERSION_HEX < 0x030E0000
    *code = f[0];
#else
    *code = (const void *)((uintptr_t)f[0] & ~(uintptr_t)3);
#endif
    *where = (intptr_t)f[7];
#endif
    return 1;
}

static void sigprof_handler(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)context;
    int saved = errno;
    SigprofSlot *slot = info != NULL && info->si_code == SI_TIMER ? (SigprofSlot *)info->si_value.sival_ptr : NULL;
    if (slot != NULL && slot >= sigprof_slots && slot < sigprof_slots + SIGPROF_SLOTS && __atomic_load_n(&slot->armed, __ATOMIC_ACQUIRE)) {
        PyThreadState *ts = PyGILState_GetThisThreadState();
        const void *frame, *code;
        intptr_t where;
        if (ts != NULL && ts == slot->tstate && sigprof_read(ts, &frame, &code, &where)) {
            unsigned long seq = slot->seq;
            __atomic_store_n(&slot->seq, seq + 1, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_RELEASE);
            slot->frame = frame;
            slot->code = code;
            slot->where = where;
            __atomic_store_n(&slot->seq, seq + 2, __ATOMIC_RELEASE);
        }
    }
    errno = saved;
}

static PyThreadState *sigprof_thread_state(unsigned long ident) {
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL; ts = PyThreadState_Next(ts)) {
        if (ts->thread_id == ident) return ts;
    }
    return NULL;
}

static SigprofSlot *sigprof_slot_of(unsigned long ident) {
    for (int i = 0; i < sigprof_used; i++) {
        if (sigprof_slots[i].ident == ident && sigprof_slots[i].armed) return &sigprof_slots[i];
    }
    return NULL;
}

/* sigprof_start(interval_ns) -> None, or why instruction offsets cannot be read at CPU-time signals. */
static PyObject *mod_sigprof_start(PyObject *self, PyObject *arg) {
    (void)self;
    long long ns = PyLong_AsLongLong(arg);
    if (ns == -1 && PyErr_Occurred()) return NULL;
    if (sigprof_on) return PyUnicode_FromString("the signal sampler is already running");
    if (ns < 10000) ns = 10000;
    struct sigaction current;
    if (sigaction(SIGPROF, NULL, &current) != 0) return PyUnicode_FromFormat("sigaction(SIGPROF): %s", strerror(errno));
    if ((current.sa_flags & SA_SIGINFO) ? current.sa_sigaction != NULL : (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN)) {
        return PyUnicode_FromString("SIGPROF already has a handler (the program's or another profiler's)");
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = sigprof_handler;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGPROF, &action, &sigprof_previous) != 0) return PyUnicode_FromFormat("sigaction(SIGPROF): %s", strerror(errno));
    for (int i = 0; i < SIGPROF_SLOTS; i++) {
        __atomic_store_n(&sigprof_slots[i].armed, 0, __ATOMIC_RELEASE);
    }
    sigprof_used = 0;
    sigprof_interval_ns = ns;
    sigprof_on = 1;
    Py_RETURN_NONE;
}

/* Arms `slot` for the thread `ident` (thread state `ts`, kernel thread id `tid`): a timer on the
 * thread's CPU clock that sends it SIGPROF every interval. 0 when it cannot be had. */
static int sigprof_arm_slot(SigprofSlot *slot, PyThreadState *ts, unsigned long ident, long tid) {
    clockid_t clock;
    if (tid <= 0 || pthread_getcpuclockid((pthread_t)ident, &clock) != 0) return 0;
    __atomic_store_n(&slot->armed, 0, __ATOMIC_RELEASE);
    slot->tstate = ts;
    slot->ident = ident;
    slot->seq = 0;
    slot->taken = 0;
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGPROF;
    event.sigev_value.sival_ptr = slot;
    event.sigev_notify_thread_id = (pid_t)tid;
    if (timer_create(clock, &event, &slot->timer) != 0) return 0;
    struct itimerspec spec;
    spec.it_interval.tv_sec = (time_t)(sigprof_interval_ns / 1000000000LL);
    spec.it_interval.tv_nsec = (long)(sigprof_interval_ns % 1000000000LL);
    spec.it_value = spec.it_interval;
    __atomic_store_n(&slot->armed, 1, __ATOMIC_RELEASE);
    if (timer_settime(slot->timer, 0, &spec, NULL) != 0) {
        __atomic_store_n(&slot->armed, 0, __ATOMIC_RELEASE);
        timer_delete(slot->timer);
        return 0;
    }
    return 1;
}

/* The kernel thread id of `ts` when the thread state knows it (3.11+), else 0. */
static long sigprof_native_id(PyThreadState *ts) {
#if PY_VERSION_HEX >= 0x030B0000
    return (long)ts->native_thread_id;
#else
    (void)ts;
    return 0;
#endif
}

/* sigprof_arm(ident, native_id) -> True when the thread's CPU clock now sends it SIGPROF (native_id
 * 0: the thread state's, 3.11+). */
static PyObject *mod_sigprof_arm(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "sigprof_arm(ident, native_id)");
        return NULL;
    }
    unsigned long ident = PyLong_AsUnsignedLong(args[0]);
    long tid = PyLong_AsLong(args[1]);
    if (PyErr_Occurred()) return NULL;
    if (!sigprof_on || sigprof_used >= SIGPROF_SLOTS || sigprof_slot_of(ident) != NULL) Py_RETURN_FALSE;
    PyThreadState *ts = sigprof_thread_state(ident); /* alive: it cannot be deleted while we hold the GIL */
    if (ts == NULL) Py_RETURN_FALSE;
    if (tid <= 0) tid = sigprof_native_id(ts); /* a thread threading does not know */
    SigprofSlot *slot = &sigprof_slots[sigprof_used];
    memset(slot, 0, sizeof *slot);
    if (!sigprof_arm_slot(slot, ts, ident, tid)) Py_RETURN_FALSE;
    sigprof_used++;
    Py_RETURN_TRUE;
}

/* sigprof_take(ident, code, stale) -> the byte offset the thread's innermost frame was at in the
 * last signal, when that frame is still innermost and runs `code` and the signal came after the
 * previous take (or `stale` is true: any earlier signal in that frame); else -1; -2 when the id is
 * now another thread's that could not be armed here (3.10: sigprof_arm it with its kernel id). */
static PyObject *mod_sigprof_take(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3 || !PyCode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "sigprof_take(ident, code, stale)");
        return NULL;
    }
    unsigned long ident = PyLong_AsUnsignedLong(args[0]);
    if (PyErr_Occurred()) return NULL;
    int stale = PyObject_IsTrue(args[2]);
    if (stale < 0) return NULL;
    SigprofSlot *slot = sigprof_slot_of(ident);
    if (slot == NULL) return PyLong_FromLong(-1);
    PyThreadState *ts = sigprof_thread_state(ident);
    if (ts != slot->tstate) {
        /* the thread the slot was armed for has ended and another one has its id (glibc reuses
         * the stacks, and so the ids, of ended threads): the old thread state is gone, never read
         * it; the new thread gets the slot (3.11+: its thread state knows its kernel id) */
        __atomic_store_n(&slot->armed, 0, __ATOMIC_RELEASE);
        timer_delete(slot->timer);
        if (ts != NULL && sigprof_arm_slot(slot, ts, ident, sigprof_native_id(ts))) return PyLong_FromLong(-1);
        return PyLong_FromLong(-2); /* 3.10: the caller arms the new thread with its kernel id */
    }
    unsigned long seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
    if ((seq & 1) || seq == 0 || (seq == slot->taken && !stale)) return PyLong_FromLong(-1);
    const void *frame = slot->frame, *code = slot->code;
    intptr_t where = slot->where;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&slot->seq, __ATOMIC_RELAXED) != seq) return PyLong_FromLong(-1);
    slot->taken = seq;
    const void *now_frame, *now_code;
    intptr_t now_where;
    /* the thread waits for the GIL or runs without it: its frames stay as they are */
    if (!sigprof_read(slot->tstate, &now_frame, &now_code, &now_where) || now_frame != frame || now_code != code || code != (const void *)args[1]) {
        return PyLong_FromLong(-1);
    }
    PyCodeObject *co = (PyCodeObject *)args[1];
#if PY_VERSION_HEX < 0x030B0000
    Py_ssize_t units = PyBytes_GET_SIZE(co->co_code) / 2;
    Py_ssize_t index = (Py_ssize_t)where;
#else
    Py_ssize_t units = Py_SIZE(co);
    Py_ssize_t index = (Py_ssize_t)((where - (intptr_t)co->co_code_adaptive) / 2);
    if ((where - (intptr_t)co->co_code_adaptive) % 2 != 0) return PyLong_FromLong(-1);
#endif
    if (index < 0 || index >= units) return PyLong_FromLong(-1);
    return PyLong_FromSsize_t(index * 2);
}

/* sigprof_stop(): deletes the timers, drops any SIGPROF still pending and restores the handler
 * before (unless the program has put in its own since). */
static PyObject *mod_sigprof_stop(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    if (!sigprof_on) Py_RETURN_NONE;
    for (int i = 0; i < sigprof_used; i++) {
        if (sigprof_slots[i].armed) {
            timer_delete(sigprof_slots[i].timer); /* EINVAL in a forked child: nothing to delete */
            __atomic_store_n(&sigprof_slots[i].armed, 0, __ATOMIC_RELEASE);
        }
    }
    sigprof_used = 0;
    sigprof_on = 0;
    struct sigaction current;
    if (sigaction(SIGPROF, NULL, &current) != 0 || !(current.sa_flags & SA_SIGINFO) || current.sa_sigaction != sigprof_handler) {
        Py_RETURN_NONE; /* the program has put its own handler in since: it stays */
    }
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPROF, &ignore, NULL); /* discards a signal a deleted timer left pending */
    sigaction(SIGPROF, &sigprof_previous, NULL);
    Py_RETURN_NONE;
}

/* sigprof_owned() -> whether the signal sampler runs and SIGPROF is still its handler. */
static PyObject *mod_sigprof_owned(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    struct sigaction current;
    if (!sigprof_on || sigaction(SIGPROF, NULL, &current) != 0) Py_RETURN_FALSE;
    return PyBool_FromLong((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == sigprof_handler);
}

#define SIGPROF_METHODS \
    {"sigprof_owned", (PyCFunction)mod_sigprof_owned, METH_NOARGS, "sigprof_owned(): whether SIGPROF is still the signal sampler's."}, \
    {"sigprof_start", (PyCFunction)mod_sigprof_start, METH_O, "sigprof_start(interval_ns): None, or why the signal sampler cannot run."}, \
    {"sigprof_arm", (PyCFunction)(void (*)(void))mod_sigprof_arm, METH_FASTCALL, "sigprof_arm(ident, native_id): a CPU-time SIGPROF timer for that thread."}, \
    {"sigprof_take", (PyCFunction)(void (*)(void))mod_sigprof_take, METH_FASTCALL, "sigprof_take(ident, code, stale): the offset of the last signal, or -1."}, \
    {"sigprof_stop", (PyCFunction)mod_sigprof_stop, METH_NOARGS, "sigprof_stop(): stops the signal sampler."},
#else
#define SIGPROF_METHODS
#endif
