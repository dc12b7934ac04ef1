/* The shared command-line parser (netcore/tools/cli_args.h). */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"

typedef struct options {
    bool verbose;
    const char *bind;
    uint32_t port;
    uint64_t seed;
    double seconds;
    bool seed_seen;
    unsigned tag_count;
    char tags[4][16];
} options;

/* A repeated flag: every occurrence is kept, up to four. */
static bool parse_tag(const nci_cli_flag *flag, const char *value)
{
    options *o = flag->target;
    if (o->tag_count >= 4 || strlen(value) >= sizeof o->tags[0])
        return false;
    strcpy(o->tags[o->tag_count++], value);
    return true;
}

typedef struct run {
    options opts;
    nci_cli_status status;
    char out[4096];
    char err[4096];
} run;

/* Parses a NULL-terminated argument list (argv[0] is added) and captures out/err. */
static void parse(run *r, const char *const *args)
{
    memset(r, 0, sizeof *r);
    r->opts.port = 7777;
    r->opts.seed = 1;
    nci_cli_flag flags[] = {
        NCI_CLI_SWITCH_FLAG("verbose", &r->opts.verbose, "log more"),
        NCI_CLI_TEXT_FLAG("bind", &r->opts.bind, "ADDR", "local address"),
        NCI_CLI_U32_FLAG("port", &r->opts.port, 1, 65535, "PORT", "UDP port"),
        NCI_CLI_U64_FLAG("seed", &r->opts.seed, 0, UINT64_MAX, "N", NULL),
        NCI_CLI_DOUBLE_FLAG("seconds", &r->opts.seconds, 0.0, 60.0, "S", "run time\nin seconds"),
        NCI_CLI_CUSTOM_FLAG("tag", parse_tag, &r->opts, "TEXT", "a tag (repeatable)"),
    };
    flags[3].seen = &r->opts.seed_seen;
    nci_cli_spec spec = {.program = "prog",
                         .usage_line = "usage: prog [options]",
                         .preamble = "Does things.\n",
                         .flags = flags,
                         .flag_count = sizeof flags / sizeof flags[0]};
    char *argv[16] = {"prog"};
    int argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    FILE *out = fmemopen(r->out, sizeof r->out - 1, "w");
    FILE *err = fmemopen(r->err, sizeof r->err - 1, "w");
    cr_assert(out && err);
    r->status = nci_cli_parse(&spec, argc, argv, out, err);
    fclose(out);
    fclose(err);
}

Test(cli_args, value_follows_the_flag_or_an_equals_sign)
{
    run r;
    parse(&r, (const char *const[]){"--bind", "10.0.0.1", "--port=9000", NULL});
    cr_assert_eq(r.status, NCI_CLI_OK);
    cr_assert_str_eq(r.opts.bind, "10.0.0.1");
    cr_assert_eq(r.opts.port, 9000);
    parse(&r, (const char *const[]){"--bind=", NULL});
    cr_assert_eq(r.status, NCI_CLI_OK);
    cr_assert_str_eq(r.opts.bind, "", "an empty value after '=' is a value");
}

Test(cli_args, flags_not_given_keep_their_defaults)
{
    run r;
    parse(&r, (const char *const[]){"--verbose", NULL});
    cr_assert_eq(r.status, NCI_CLI_OK);
    cr_assert(r.opts.verbose);
    cr_assert_eq(r.opts.port, 7777);
    cr_assert_eq(r.opts.seed, 1);
    cr_assert_null(r.opts.bind);
    cr_assert_not(r.opts.seed_seen);
}

Test(cli_args, switch_refuses_a_value)
{
    run r;
    parse(&r, (const char *const[]){"--verbose=1", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR);
    cr_assert_not(r.opts.verbose);
    cr_assert(strstr(r.err, "prog: --verbose takes no value"), "%s", r.err);
}

Test(cli_args, unsigned_accepts_its_bounds_and_refuses_beyond)
{
    run r;
    parse(&r, (const char *const[]){"--port", "1", NULL});
    cr_assert_eq(r.opts.port, 1);
    parse(&r, (const char *const[]){"--port", "65535", NULL});
    cr_assert_eq(r.opts.port, 65535);
    const char *bad[] = {"0", "65536", "-1", "+5", " 5", "5x", "", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse(&r, (const char *const[]){"--port", bad[i], NULL});
        cr_assert_eq(r.status, NCI_CLI_ERROR, "'%s' accepted", bad[i]);
        cr_assert_eq(r.opts.port, 7777, "target changed by '%s'", bad[i]);
        cr_assert(strstr(r.err, "prog: bad value for --port"), "%s", r.err);
        cr_assert(strstr(r.err, "1..65535"), "%s", r.err);
    }
}

Test(cli_args, u64_reaches_its_full_range)
{
    run r;
    parse(&r, (const char *const[]){"--seed", "18446744073709551615", NULL});
    cr_assert_eq(r.status, NCI_CLI_OK);
    cr_assert_eq(r.opts.seed, UINT64_MAX);
    cr_assert(r.opts.seed_seen);
    parse(&r, (const char *const[]){"--seed", "18446744073709551616", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR);
}

Test(cli_args, double_takes_decimals_in_range_and_refuses_nan)
{
    run r;
    parse(&r, (const char *const[]){"--seconds=2.5", NULL});
    cr_assert_eq(r.status, NCI_CLI_OK);
    cr_assert_float_eq(r.opts.seconds, 2.5, 1e-12);
    const char *bad[] = {"nan", "60.5", "-0.1", "1e999", "abc", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse(&r, (const char *const[]){"--seconds", bad[i], NULL});
        cr_assert_eq(r.status, NCI_CLI_ERROR, "'%s' accepted", bad[i]);
        cr_assert_eq(r.opts.seconds, 0.0);
    }
}

Test(cli_args, custom_flag_sees_every_occurrence)
{
    run r;
    parse(&r, (const char *const[]){"--tag", "a", "--tag=b", "--tag", "c", NULL});
    cr_assert_eq(r.status, NCI_CLI_OK);
    cr_assert_eq(r.opts.tag_count, 3);
    cr_assert_str_eq(r.opts.tags[0], "a");
    cr_assert_str_eq(r.opts.tags[1], "b");
    cr_assert_str_eq(r.opts.tags[2], "c");
    parse(&r, (const char *const[]){"--tag", "much-too-long-for-a-tag", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR, "the custom parser's refusal is reported");
    cr_assert(strstr(r.err, "prog: bad value for --tag: 'much-too-long-for-a-tag'"), "%s", r.err);
}

Test(cli_args, last_value_of_a_repeated_flag_wins)
{
    run r;
    parse(&r, (const char *const[]){"--port", "10", "--port", "20", NULL});
    cr_assert_eq(r.status, NCI_CLI_OK);
    cr_assert_eq(r.opts.port, 20);
}

Test(cli_args, unknown_flag_is_named_with_the_program)
{
    run r;
    parse(&r, (const char *const[]){"--prot", "1", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR);
    cr_assert(strstr(r.err, "prog: unknown flag '--prot'"), "%s", r.err);
    cr_assert(strstr(r.err, "usage: prog"), "the usage follows the error: %s", r.err);
    cr_assert_str_eq(r.out, "");
}

Test(cli_args, flag_name_must_match_whole)
{
    run r;
    parse(&r, (const char *const[]){"--por", "1", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR, "a prefix is not the flag");
    parse(&r, (const char *const[]){"--portx=1", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR);
}

Test(cli_args, missing_value_is_named)
{
    run r;
    parse(&r, (const char *const[]){"--bind", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR);
    cr_assert(strstr(r.err, "prog: --bind needs a value"), "%s", r.err);
}

Test(cli_args, positional_arguments_are_refused)
{
    run r;
    parse(&r, (const char *const[]){"extra", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR);
    cr_assert(strstr(r.err, "prog: unexpected argument 'extra'"), "%s", r.err);
    parse(&r, (const char *const[]){"--", NULL});
    cr_assert_eq(r.status, NCI_CLI_ERROR);
}

Test(cli_args, help_prints_the_usage_from_the_table)
{
    run r;
    parse(&r, (const char *const[]){"--port", "5", "--help", "--bogus", NULL});
    cr_assert_eq(r.status, NCI_CLI_HELP);
    cr_assert_str_eq(r.err, "");
    cr_assert(strncmp(r.out, "usage: prog [options]\nDoes things.\n", 35) == 0, "%s", r.out);
    cr_assert(strstr(r.out, "  --port PORT           UDP port\n"), "%s", r.out);
    cr_assert(strstr(r.out, "  --verbose             log more\n"), "%s", r.out);
    cr_assert(strstr(r.out, "run time\n                        in seconds\n"), "%s", r.out);
    cr_assert(strstr(r.out, "  --help                this text\n"), "%s", r.out);
    cr_assert_null(strstr(r.out, "--seed"), "a flag without help text is hidden");
    parse(&r, (const char *const[]){"-h", NULL});
    cr_assert_eq(r.status, NCI_CLI_HELP);
}
