/*
 * CNCurses: the C shim NCursesTerminal uses to reach ncursesw from Swift 6.
 *
 * Why a shim at all:
 *  - SwiftPM drops ncursesw's pkg-config -D flags, so the wide-character API
 *    (setcchar, mvwadd_wch, wget_wch) would be hidden; we define the switches here.
 *  - ncurses' globals (stdscr, COLS, LINES, COLORS, COLOR_PAIRS) are mutable C
 *    globals, which Swift 6 strict concurrency rejects; and its macros (A_BOLD,
 *    COLOR_PAIR, KEY_*, BUTTON*_PRESSED) are not imported at all. Each gets a
 *    `static inline` accessor with a `cnc_` prefix.
 *  - A signal handler must be plain C: it may not touch Swift runtime state.
 */
#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <ncursesw/curses.h>

/* MARK: - Globals */

static inline WINDOW *cnc_stdscr(void) { return stdscr; }
static inline int cnc_COLS(void) { return COLS; }
static inline int cnc_LINES(void) { return LINES; }
static inline int cnc_COLORS(void) { return COLORS; }
static inline int cnc_COLOR_PAIRS(void) { return COLOR_PAIRS; }

/* MARK: - Attributes */

static inline attr_t cnc_A_NORMAL(void) { return A_NORMAL; }
static inline attr_t cnc_A_BOLD(void) { return A_BOLD; }
static inline attr_t cnc_A_DIM(void) { return A_DIM; }
static inline attr_t cnc_A_UNDERLINE(void) { return A_UNDERLINE; }
static inline attr_t cnc_A_REVERSE(void) { return A_REVERSE; }
static inline attr_t cnc_A_ITALIC(void) { return A_ITALIC; }
static inline attr_t cnc_COLOR_PAIR(int n) { return (attr_t)COLOR_PAIR(n); }

/* MARK: - Result codes */

static inline int cnc_OK(void) { return OK; }
static inline int cnc_ERR(void) { return ERR; }
/* wget_wch's return value when the wint_t holds a KEY_* code, not a character. */
static inline int cnc_KEY_CODE_YES(void) { return KEY_CODE_YES; }

/* MARK: - Key codes */

static inline int cnc_KEY_RESIZE(void) { return KEY_RESIZE; }
static inline int cnc_KEY_UP(void) { return KEY_UP; }
static inline int cnc_KEY_DOWN(void) { return KEY_DOWN; }
static inline int cnc_KEY_LEFT(void) { return KEY_LEFT; }
static inline int cnc_KEY_RIGHT(void) { return KEY_RIGHT; }
static inline int cnc_KEY_NPAGE(void) { return KEY_NPAGE; }
static inline int cnc_KEY_PPAGE(void) { return KEY_PPAGE; }
static inline int cnc_KEY_HOME(void) { return KEY_HOME; }
static inline int cnc_KEY_END(void) { return KEY_END; }
static inline int cnc_KEY_BACKSPACE(void) { return KEY_BACKSPACE; }
static inline int cnc_KEY_DC(void) { return KEY_DC; }
static inline int cnc_KEY_BTAB(void) { return KEY_BTAB; }
static inline int cnc_KEY_ENTER(void) { return KEY_ENTER; }
static inline int cnc_KEY_MOUSE(void) { return KEY_MOUSE; }
static inline int cnc_KEY_F(int n) { return KEY_F(n); }

/* MARK: - Mouse */

static inline mmask_t cnc_BUTTON4_PRESSED(void) { return BUTTON4_PRESSED; }
static inline mmask_t cnc_BUTTON5_PRESSED(void) { return BUTTON5_PRESSED; }

/* Reads the pending mouse event; returns its button state, or 0 when there is none. */
static inline mmask_t cnc_getmouse_bstate(void) {
    MEVENT event;
    memset(&event, 0, sizeof event);
    if (getmouse(&event) != OK) return 0;
    return event.bstate;
}

/* MARK: - Wide cells */

/* glibc declares wcwidth only under _XOPEN_SOURCE, which the precompiled libc module
 * was not built with; redeclare it (same signature) so the backend can ask how wide
 * the terminal's libc thinks a glyph is. */
extern int wcwidth(wchar_t c);
static inline int cnc_wcwidth(wchar_t c) { return wcwidth(c); }

/*
 * Writes one grapheme at (y, x) of `win`: `wch` is a NUL-terminated wchar_t
 * array (base character plus up to CCHARW_MAX-1 combining marks; ncurses cuts
 * longer clusters). A wide glyph occupies two columns. Returns OK or ERR; ERR
 * at the bottom-right cell is expected with scrollok off (the cell is still
 * written, only the cursor cannot advance) and callers ignore it.
 */
static inline int cnc_mvwadd_wchars(WINDOW *win, int y, int x, const wchar_t *wch, attr_t attrs, short pair) {
    cchar_t cell;
    memset(&cell, 0, sizeof cell);
    if (setcchar(&cell, wch, attrs, pair, NULL) != OK) return ERR;
    return mvwadd_wch(win, y, x, &cell);
}

/* MARK: - Restoring the terminal on signals */

/*
 * Termination signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT) only record the signal
 * (async-signal-safe): the run loop sees it within one input wait, leaves its
 * loop, restores the terminal and lets every `defer` run, then re-raises the
 * signal so the exit status still says "killed by signal N" (130 for Ctrl-C).
 * A second signal before that means the loop is stuck: leave curses mode and
 * die at once.
 */
static inline volatile sig_atomic_t *cnc__pending_signal(void) {
    static volatile sig_atomic_t pending = 0;
    return &pending;
}

static inline void cnc__terminate_handler(int sig) {
    volatile sig_atomic_t *pending = cnc__pending_signal();
    if (*pending != 0) {
        if (!isendwin()) endwin();
        signal(sig, SIG_DFL);
        raise(sig); /* delivered once this handler returns (sig is blocked while in it) */
        return;
    }
    *pending = sig;
}

/* The termination signal received since the handlers were installed, or 0. */
static inline int cnc_pending_termination_signal(void) {
    return (int)*cnc__pending_signal();
}

/*
 * Dies by `sig` with its default action (after the terminal was restored). The
 * caller may be a thread that blocks signals (Dispatch's workers do), so unblock
 * it here first; should the signal still not end the process, exit with the
 * status a shell would report for it.
 */
static inline void cnc_reraise(int sig) {
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

/*
 * Crash signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT): leave
 * curses mode, put back whatever handler was there before (the Swift runtime's
 * backtracer, or the default), and return: the faulting instruction runs again
 * and the previous handler sees the real fault, so crash reports stay intact.
 */
/* Storage lives in a function: Swift's importer emits inline functions (and their
 * statics) but not file-scope static variables of a header. */
static inline struct sigaction *cnc__previous_crash_actions(void) {
    static struct sigaction actions[NSIG];
    return actions;
}

static inline void cnc__crash_handler(int sig) {
    if (!isendwin()) endwin();
    sigaction(sig, &cnc__previous_crash_actions()[sig], NULL);
    if (sig == SIGABRT || sig == SIGTRAP) raise(sig); /* not re-executed by returning */
}

/*
 * Installs the handlers above, once per process (later calls do nothing).
 * Call after newterm/initscr: ncurses installs its own SIGINT/SIGTERM handlers
 * there, and ours (which also re-raise) should win.
 */
static inline void cnc_install_signal_restore(void) {
    static volatile sig_atomic_t installed = 0;
    if (installed) return;
    installed = 1;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_handler = cnc__terminate_handler;
    const int terminating[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    for (size_t i = 0; i < sizeof terminating / sizeof terminating[0]; i++) {
        sigaction(terminating[i], &action, NULL);
    }

    struct sigaction crash;
    memset(&crash, 0, sizeof crash);
    sigemptyset(&crash.sa_mask);
    crash.sa_handler = cnc__crash_handler;
    /* SA_ONSTACK: a stack overflow still reaches the handler when an alternate stack exists. */
    crash.sa_flags = SA_ONSTACK;
    const int crashing[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT };
    for (size_t i = 0; i < sizeof crashing / sizeof crashing[0]; i++) {
        sigaction(crashing[i], &crash, &cnc__previous_crash_actions()[crashing[i]]);
    }
}

#endif /* CNCURSES_SHIM_H */
