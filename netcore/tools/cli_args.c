/* The shared command-line parser; see cli_args.h. */
#include "cli_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Usage column where the help text starts; longer flag texts push it right. */
enum { HELP_COLUMN = 24 };

bool nci_cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    /* strtoull alone would take a sign, spaces and an empty string. */
    if (!text || *text < '0' || *text > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max)
        return false;
    *out = (uint64_t)value;
    return true;
}

bool nci_cli_parse_double(const char *text, double min, double max, double *out)
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

static void print_flag(const nci_cli_flag *flag, FILE *out)
{
    int width = fprintf(out, "  --%s", flag->name);
    if (flag->value_name)
        width += fprintf(out, " %s", flag->value_name);
    if (width >= HELP_COLUMN - 1) {
        fputc('\n', out);
        width = 0;
    }
    fprintf(out, "%*s", HELP_COLUMN - width, "");
    for (const char *c = flag->help; *c; c++) {
        fputc(*c, out);
        if (*c == '\n')
            fprintf(out, "%*s", HELP_COLUMN, "");
    }
    fputc('\n', out);
}

void nci_cli_print_usage(const nci_cli_spec *spec, FILE *out)
{
    size_t usage_len = strlen(spec->usage_line);
    /* A multi-line usage text may bring its own final newline. */
    fprintf(out, "%s%s", spec->usage_line,
            usage_len > 0 && spec->usage_line[usage_len - 1] == '\n' ? "" : "\n");
    if (spec->preamble)
        fprintf(out, "%s", spec->preamble);
    for (size_t i = 0; i < spec->flag_count; i++) {
        if (spec->flags[i].help)
            print_flag(&spec->flags[i], out);
    }
    nci_cli_flag help = {.name = "help", .help = "this text"};
    print_flag(&help, out);
    if (spec->epilogue)
        fprintf(out, "%s", spec->epilogue);
    fprintf(out, "Flags take their value as the next argument or after '='.\n");
}

static nci_cli_status fail(const nci_cli_spec *spec, FILE *err, const char *what, const char *name,
                           const char *value)
{
    fprintf(err, "%s: ", spec->program);
    fprintf(err, what, name, value);
    fputc('\n', err);
    nci_cli_print_usage(spec, err);
    return NCI_CLI_ERROR;
}

static const nci_cli_flag *find_flag(const nci_cli_spec *spec, const char *name, size_t name_len)
{
    for (size_t i = 0; i < spec->flag_count; i++) {
        const char *candidate = spec->flags[i].name;
        if (strncmp(candidate, name, name_len) == 0 && candidate[name_len] == '\0')
            return &spec->flags[i];
    }
    return NULL;
}

/* Stores value into the flag's target; false when the value is bad. */
static bool apply_value(const nci_cli_flag *flag, const char *value)
{
    uint64_t number = 0;
    switch (flag->kind) {
    case NCI_CLI_TEXT:
        *(const char **)flag->target = value;
        return true;
    case NCI_CLI_U32:
        if (!nci_cli_parse_u64(value, flag->min_u,
                               flag->max_u > UINT32_MAX ? UINT32_MAX : flag->max_u, &number))
            return false;
        *(uint32_t *)flag->target = (uint32_t)number;
        return true;
    case NCI_CLI_U64:
        return nci_cli_parse_u64(value, flag->min_u, flag->max_u, (uint64_t *)flag->target);
    case NCI_CLI_DOUBLE:
        return nci_cli_parse_double(value, flag->min_d, flag->max_d, (double *)flag->target);
    case NCI_CLI_CUSTOM:
        return flag->parse(flag, value);
    case NCI_CLI_SWITCH:
        break;
    }
    return false;
}

/* "<program>: bad value for --name: 'text'", with the expected form of a number. */
static void report_bad_value(const nci_cli_spec *spec, const nci_cli_flag *flag, const char *value,
                             FILE *err)
{
    fprintf(err, "%s: bad value for --%s: '%s'", spec->program, flag->name, value);
    if (flag->kind == NCI_CLI_U32 || flag->kind == NCI_CLI_U64)
        fprintf(err, " (a whole number in %llu..%llu)", (unsigned long long)flag->min_u,
                (unsigned long long)flag->max_u);
    else if (flag->kind == NCI_CLI_DOUBLE)
        fprintf(err, " (a number in %g..%g)", flag->min_d, flag->max_d);
    fputc('\n', err);
    nci_cli_print_usage(spec, err);
}

nci_cli_status nci_cli_parse(const nci_cli_spec *spec, int argc, char **argv, FILE *out, FILE *err)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            nci_cli_print_usage(spec, out);
            return NCI_CLI_HELP;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return fail(spec, err, "unexpected argument '%s'%s", arg, "");
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        const nci_cli_flag *flag = find_flag(spec, name, name_len);
        if (!flag)
            return fail(spec, err, "unknown flag '%s'%s", arg, "");
        if (flag->kind == NCI_CLI_SWITCH) {
            if (eq)
                return fail(spec, err, "--%s takes no value: '%s'", flag->name, arg);
            *(bool *)flag->target = true;
        } else {
            const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value)
                return fail(spec, err, "--%s needs a value%s", flag->name, "");
            if (!apply_value(flag, value)) {
                report_bad_value(spec, flag, value, err);
                return NCI_CLI_ERROR;
            }
        }
        if (flag->seen)
            *flag->seen = true;
    }
    return NCI_CLI_OK;
}
