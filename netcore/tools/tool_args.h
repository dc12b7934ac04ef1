/* Command-line helpers shared by the programs in netcore/tools. Flags are
 * "--name value" or "--name=value"; numbers are decimal. */
#ifndef NETCORE_TOOL_ARGS_H
#define NETCORE_TOOL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Splits a flag "--name[=value]": copies name (without "--") into name_out
 * (NUL-terminated) and points *out_inline_value at the text after '=' or sets
 * it to NULL. False if arg does not start with "--" or the name is empty or
 * does not fit in name_size - 1 bytes. */
bool tool_split_flag(const char *arg, char *name_out, size_t name_size, const char **out_inline_value);

/* The value of a flag that takes one: the inline value when there is one,
 * else argv[*index + 1] (advancing *index); NULL when none is left. */
const char *tool_flag_value(int argc, char **argv, int *index, const char *inline_value);

/* Whole decimal numbers in 0..max, nothing else in the text (no sign, no
 * spaces); *out is untouched on failure. */
bool tool_parse_u64(const char *text, uint64_t max, uint64_t *out);
bool tool_parse_u32(const char *text, uint32_t max, uint32_t *out);
/* A decimal or floating number in [min, max] (NaN refused). */
bool tool_parse_double(const char *text, double min, double max, double *out);

/* Prints "<program>: " + fmt (one %s, filled with what) and the usage on
 * stderr; returns false so a parser can `return tool_usage_error(...)`. */
bool tool_usage_error(const char *program, void (*print_usage)(FILE *out), const char *fmt,
                      const char *what);

#endif
