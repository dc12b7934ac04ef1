/*
 * JSON Lines output for --stats FILE: one object a line, flushed at once so
 * that a reader (a test, `tail -f`) sees each line as soon as it is written.
 */
#ifndef DEMO_STATS_FILE_H
#define DEMO_STATS_FILE_H

#include <stdio.h>

/* Opens path for writing (truncated); "-" is stdout. Returns NULL with a
 * message on stderr on failure. Close with demo_stats_close. */
FILE *demo_stats_open(const char *path);

/* Writes line and a newline, then flushes. */
void demo_stats_line(FILE *file, const char *line);

/* Closes a file from demo_stats_open (stdout is only flushed); NULL is ignored. */
void demo_stats_close(FILE *file);

#endif
