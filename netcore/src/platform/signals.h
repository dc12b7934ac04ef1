/* Stop requests for programs (internal): the one way netcore's tools, soak
 * programs and the demo learn that the user asked them to stop. */
#ifndef NETCORE_PLATFORM_SIGNALS_H
#define NETCORE_PLATFORM_SIGNALS_H

#include <stdbool.h>

/* Makes SIGINT and SIGTERM (Ctrl-C, Ctrl-Break and closing the console on
 * Windows) set a flag instead of ending the process. The handlers do not
 * restart interrupted calls, so a program blocked in a wait returns to its
 * loop at once. Also ignores SIGPIPE (a write to a closed socket or pipe is
 * an error return, not death) and unblocks SIGINT and SIGTERM in case the
 * parent started the program with them blocked. Call once, early in main(). */
void nci_stop_signals_install(void);

/* True once a stop was requested. */
bool nci_stop_requested(void);

#endif /* NETCORE_PLATFORM_SIGNALS_H */
