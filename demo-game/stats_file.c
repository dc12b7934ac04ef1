/* JSON Lines output (see stats_file.h). */
#include "stats_file.h"

#include <errno.h>
#include <string.h>

FILE *demo_stats_open(const char *path)
{
    if (strcmp(path, "-") == 0) {
        return stdout;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "demo: cannot write %s: %s\n", path, strerror(errno));
    }
    return f;
}

void demo_stats_line(FILE *file, const char *line)
{
    fputs(line, file);
    fputc('\n', file);
    fflush(file);
}

void demo_stats_close(FILE *file)
{
    if (!file) {
        return;
    }
    if (file == stdout) {
        fflush(file);
    } else {
        fclose(file);
    }
}
