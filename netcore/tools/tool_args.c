#include "tool_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool tool_split_flag(const char *arg, char *name_out, size_t name_size, const char **out_inline_value)
{
    if (strncmp(arg, "--", 2) != 0)
        return false;
    const char *eq = strchr(arg + 2, '=');
    size_t name_len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    if (name_len == 0 || name_len >= name_size)
        return false;
    memcpy(name_out, arg + 2, name_len);
    name_out[name_len] = '\0';
    *out_inline_value = eq ? eq + 1 : NULL;
    return true;
}

const char *tool_flag_value(int argc, char **argv, int *index, const char *inline_value)
{
    if (inline_value)
        return inline_value;
    if (*index + 1 >= argc)
        return NULL;
    return argv[++*index];
}

bool tool_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    if (!text || *text < '0' || *text > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > max)
        return false;
    *out = (uint64_t)value;
    return true;
}

bool tool_parse_u32(const char *text, uint32_t max, uint32_t *out)
{
    uint64_t value;
    if (!tool_parse_u64(text, max, &value))
        return false;
    *out = (uint32_t)value;
    return true;
}

bool tool_parse_double(const char *text, double min, double max, double *out)
{
    if (!text || *text == '\0')
        return false;
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    /* !(min <= value && value <= max) also refuses NaN. */
    if (errno != 0 || *end != '\0' || !(min <= value && value <= max))
        return false;
    *out = value;
    return true;
}

bool tool_usage_error(const char *program, void (*print_usage)(FILE *out), const char *fmt,
                      const char *what)
{
    fprintf(stderr, "%s: ", program);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    print_usage(stderr);
    return false;
}
