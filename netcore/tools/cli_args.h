/*
 * One table-driven command-line parser for the programs of this repository
 * (the tools, the demo, the soak and bench programs). Not part of the public
 * netcore API: programs link the small static library netcore_cli_args.
 *
 * A program describes its flags as a table of nci_cli_flag and calls
 * nci_cli_parse. Flags are "--name value" or "--name=value"; switches take no
 * value. "--help" (or "-h") prints a usage generated from the table. No
 * globals: every call reads only its arguments.
 */
#ifndef NETCORE_CLI_ARGS_H
#define NETCORE_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum nci_cli_kind {
    NCI_CLI_SWITCH, /* target: bool *, set to true; "--name=x" is refused */
    NCI_CLI_TEXT,   /* target: const char **, points into argv (lives as long as argv) */
    NCI_CLI_U32,    /* target: uint32_t *, whole decimal number in [min_u, max_u] */
    NCI_CLI_U64,    /* target: uint64_t *, whole decimal number in [min_u, max_u] */
    NCI_CLI_DOUBLE, /* target: double *, decimal number in [min_d, max_d], NaN refused */
    NCI_CLI_CUSTOM  /* parse(flag, value) decides: repeated or special flags */
} nci_cli_kind;

typedef struct nci_cli_flag nci_cli_flag;

/* A custom flag's parser: value is the flag's text (never NULL). Returns
 * false when the value is bad; the parser then reports it. */
typedef bool (*nci_cli_parse_fn)(const nci_cli_flag *flag, const char *value);

struct nci_cli_flag {
    const char *name; /* without the leading "--" */
    nci_cli_kind kind;
    void *target;           /* see nci_cli_kind; for NCI_CLI_CUSTOM whatever parse expects */
    uint64_t min_u, max_u;  /* NCI_CLI_U32 / NCI_CLI_U64 (also free for custom parsers) */
    double min_d, max_d;    /* NCI_CLI_DOUBLE */
    nci_cli_parse_fn parse; /* NCI_CLI_CUSTOM only */
    bool *seen;             /* optional: set to true when the flag is given */
    const char *value_name; /* shown in the usage after the flag ("MS"); NULL for switches */
    const char *help;       /* one line or several ('\n'); NULL hides the flag from the usage */
};

/* Table entries, so a program's table reads as one line per flag. */
#define NCI_CLI_SWITCH_FLAG(flag_name, bool_ptr, help_text)                                        \
    {                                                                                              \
        .name = (flag_name), .kind = NCI_CLI_SWITCH, .target = (bool_ptr), .help = (help_text)     \
    }
#define NCI_CLI_TEXT_FLAG(flag_name, text_ptr, value_label, help_text)                             \
    {                                                                                              \
        .name = (flag_name), .kind = NCI_CLI_TEXT, .target = (void *)(text_ptr),                   \
        .value_name = (value_label), .help = (help_text)                                           \
    }
#define NCI_CLI_U32_FLAG(flag_name, u32_ptr, min, max, value_label, help_text)                     \
    {                                                                                              \
        .name = (flag_name), .kind = NCI_CLI_U32, .target = (u32_ptr), .min_u = (min),             \
        .max_u = (max), .value_name = (value_label), .help = (help_text)                           \
    }
#define NCI_CLI_U64_FLAG(flag_name, u64_ptr, min, max, value_label, help_text)                     \
    {                                                                                              \
        .name = (flag_name), .kind = NCI_CLI_U64, .target = (u64_ptr), .min_u = (min),             \
        .max_u = (max), .value_name = (value_label), .help = (help_text)                           \
    }
#define NCI_CLI_DOUBLE_FLAG(flag_name, double_ptr, min, max, value_label, help_text)               \
    {                                                                                              \
        .name = (flag_name), .kind = NCI_CLI_DOUBLE, .target = (double_ptr), .min_d = (min),       \
        .max_d = (max), .value_name = (value_label), .help = (help_text)                           \
    }
#define NCI_CLI_CUSTOM_FLAG(flag_name, parse_fn, target_ptr, value_label, help_text)               \
    {                                                                                              \
        .name = (flag_name), .kind = NCI_CLI_CUSTOM, .target = (target_ptr), .parse = (parse_fn),  \
        .value_name = (value_label), .help = (help_text)                                           \
    }

typedef struct nci_cli_spec {
    const char *program;       /* names the program in errors: "<program>: ..." */
    const char *usage_line;    /* printed first, e.g. "usage: prog --listen ADDR [options]";
                                 * a newline is added unless it ends with one */
    const char *preamble;      /* optional text between the usage line and the flags */
    const char *epilogue;      /* optional text after the flags */
    const nci_cli_flag *flags; /* borrowed for the call */
    size_t flag_count;
} nci_cli_spec;

typedef enum nci_cli_status {
    NCI_CLI_OK = 0, /* every argument was a known flag with a good value */
    NCI_CLI_HELP,   /* "--help" or "-h": the usage went to out; the program exits 0 */
    NCI_CLI_ERROR   /* "<program>: <reason naming the flag>" and the usage went to err */
} nci_cli_status;

/* Reads argv[1..argc-1] against spec->flags, left to right (a repeated flag's
 * last value wins, except for custom flags, which see every occurrence).
 * Targets of flags not given are untouched, so callers set defaults first.
 * Positional arguments are refused. out receives the usage on --help, err the
 * error and the usage otherwise (either may be the same stream). */
nci_cli_status nci_cli_parse(const nci_cli_spec *spec, int argc, char **argv, FILE *out, FILE *err);

/* Writes the usage generated from spec: usage line, preamble, one line per
 * visible flag with its help, "--help", epilogue. */
void nci_cli_print_usage(const nci_cli_spec *spec, FILE *out);

/* Whole decimal numbers in [min, max], digits only (no sign, no spaces);
 * *out is untouched on failure. For custom parsers. */
bool nci_cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* A decimal or floating number in [min, max]; NaN refused; *out untouched on failure. */
bool nci_cli_parse_double(const char *text, double min, double max, double *out);

#endif /* NETCORE_CLI_ARGS_H */
