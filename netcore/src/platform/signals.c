/* Stop requests: a flag set from a signal handler (POSIX) or from the console
 * control handler's thread (Windows). A signal handler can reach nothing but
 * a global, so this is the one process-wide flag of the library. */
#ifdef _WIN32
#include <windows.h>
#else
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <string.h>
#endif

#include "platform/signals.h"

#ifdef _WIN32
static volatile LONG stop_flag;

static BOOL WINAPI on_console_event(DWORD event)
{
    (void)event;
    InterlockedExchange(&stop_flag, 1);
    return TRUE;
}

void nci_stop_signals_install(void)
{
    SetConsoleCtrlHandler(on_console_event, TRUE);
}

bool nci_stop_requested(void)
{
    return InterlockedCompareExchange(&stop_flag, 0, 0) != 0;
}
#else
static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int signal_number)
{
    (void)signal_number;
    stop_flag = 1;
}

void nci_stop_signals_install(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_stop_signal; /* no SA_RESTART: waits return at once */
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
}

bool nci_stop_requested(void)
{
    return stop_flag != 0;
}
#endif
