/*
 * A main() for fuzz targets built without libFuzzer (gcc, or clang without
 * the fuzzer runtime). It feeds every file named on the command line, and
 * every regular file in every directory named there, to
 * LLVMFuzzerTestOneInput; then, with -runs=N, it runs N random mutations of
 * those inputs from a seeded generator. Each input is passed in a heap block
 * of exactly its size, so AddressSanitizer catches any read past its end.
 *
 * It takes libFuzzer's spelling for the flags it shares, so one command line
 * serves both engines:
 *   -runs=N             mutated inputs after the replay (default 0)
 *   -seed=S             generator seed (default 1)
 *   -max_len=N          longest input in bytes (default 4096; longer files are cut)
 *   -artifact_prefix=P  a crashing input is written to P + "crash-<run>"
 * Other -flags (-timeout, -max_total_time, ...) are accepted and ignored. The
 * corpus is never written to. Exit status 0 when no input crashed.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRIVER_MAX_INPUTS 100000
#define DRIVER_MAX_MUTATIONS 8

typedef struct driver_input {
    uint8_t *bytes;
    size_t size;
} driver_input;

typedef struct driver {
    driver_input *inputs;
    size_t input_count;
    size_t input_capacity;
    size_t max_len;
    unsigned long long runs;
    uint64_t seed;
    const char *artifact_prefix;
    nci_rng rng;
} driver;

/* What the crash handler writes out: the input being run and where. Set
 * before each run so the handler only calls async-signal-safe functions. */
static const uint8_t *current_data;
static size_t current_size;
static char current_artifact_path[4096];

static void write_current_input(void)
{
    if (current_artifact_path[0] == '\0') {
        return;
    }
    int fd = open(current_artifact_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return;
    }
    size_t done = 0;
    while (done < current_size) {
        ssize_t n = write(fd, current_data + done, current_size - done);
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    close(fd);
    static const char note[] = "standalone driver: crashing input written to ";
    ssize_t ignored = write(STDERR_FILENO, note, sizeof(note) - 1);
    ignored = write(STDERR_FILENO, current_artifact_path, strlen(current_artifact_path));
    ignored = write(STDERR_FILENO, "\n", 1);
    (void)ignored;
}

static void on_fatal_signal(int signal_number)
{
    write_current_input();
    /* Re-raise with the default action so the exit status shows the signal. */
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

#if defined(__GNUC__) || defined(__clang__)
/* Provided by the sanitizer runtimes when linked with -fsanitize=...; the
 * sanitizers exit without a signal, so ask them to call us first. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
#endif

static void install_crash_handlers(void)
{
    static const int signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        signal(signals[i], on_fatal_signal);
    }
#if defined(__GNUC__) || defined(__clang__)
    if (__sanitizer_set_death_callback != NULL) {
        __sanitizer_set_death_callback(write_current_input);
    }
#endif
}

static void run_one(const driver *drv, const uint8_t *bytes, size_t size, const char *run_name)
{
    /* An exact-size heap copy: reading one byte past it is an ASan report. */
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL) {
        fprintf(stderr, "standalone driver: out of memory\n");
        exit(2);
    }
    if (size > 0) {
        memcpy(copy, bytes, size);
    }
    current_data = copy;
    current_size = size;
    if (drv->artifact_prefix != NULL) {
        snprintf(current_artifact_path, sizeof(current_artifact_path), "%scrash-%s",
                 drv->artifact_prefix, run_name);
    }
    (void)LLVMFuzzerTestOneInput(copy, size);
    current_data = NULL;
    current_size = 0;
    free(copy);
}

static void add_input(driver *drv, const uint8_t *bytes, size_t size)
{
    if (drv->input_count == DRIVER_MAX_INPUTS) {
        return;
    }
    if (drv->input_count == drv->input_capacity) {
        size_t capacity = drv->input_capacity ? drv->input_capacity * 2 : 64;
        driver_input *grown = realloc(drv->inputs, capacity * sizeof(*grown));
        if (grown == NULL) {
            fprintf(stderr, "standalone driver: out of memory\n");
            exit(2);
        }
        drv->inputs = grown;
        drv->input_capacity = capacity;
    }
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL) {
        fprintf(stderr, "standalone driver: out of memory\n");
        exit(2);
    }
    if (size > 0) {
        memcpy(copy, bytes, size);
    }
    drv->inputs[drv->input_count].bytes = copy;
    drv->inputs[drv->input_count].size = size;
    drv->input_count++;
}

/* Reads at most max_len bytes of a file; false if it cannot be read. */
static int load_file(driver *drv, const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "standalone driver: cannot open %s: %s\n", path, strerror(errno));
        return 0;
    }
    uint8_t *buffer = malloc(drv->max_len > 0 ? drv->max_len : 1);
    if (buffer == NULL) {
        fclose(file);
        fprintf(stderr, "standalone driver: out of memory\n");
        exit(2);
    }
    size_t size = fread(buffer, 1, drv->max_len, file);
    fclose(file);
    add_input(drv, buffer, size);
    free(buffer);
    return 1;
}

static int load_path(driver *drv, const char *path)
{
    struct stat info;
    if (stat(path, &info) != 0) {
        fprintf(stderr, "standalone driver: cannot stat %s: %s\n", path, strerror(errno));
        return 0;
    }
    if (!S_ISDIR(info.st_mode)) {
        return load_file(drv, path);
    }
    DIR *dir = opendir(path);
    if (dir == NULL) {
        fprintf(stderr, "standalone driver: cannot open %s: %s\n", path, strerror(errno));
        return 0;
    }
    struct dirent *entry;
    char child[4096];
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        snprintf(child, sizeof(child), "%s/%s", path, entry->d_name);
        if (stat(child, &info) == 0 && S_ISREG(info.st_mode)) {
            load_file(drv, child);
        }
    }
    closedir(dir);
    return 1;
}

/* Applies 1..DRIVER_MAX_MUTATIONS random edits to buffer (size in/out, at
 * most drv->max_len): bit flips, byte sets, inserts, erases, copies of
 * chunks, boundary values, splices from other inputs. */
static size_t mutate(driver *drv, uint8_t *buffer, size_t size)
{
    static const uint8_t boundary[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
    unsigned edits = 1 + nci_rng_below(&drv->rng, DRIVER_MAX_MUTATIONS);
    for (unsigned e = 0; e < edits; e++) {
        uint32_t kind = nci_rng_below(&drv->rng, 8);
        uint32_t pos = size > 0 ? nci_rng_below(&drv->rng, (uint32_t)size) : 0;
        switch (kind) {
        case 0: /* flip one bit */
            if (size > 0) {
                buffer[pos] ^= (uint8_t)(1u << nci_rng_below(&drv->rng, 8));
            }
            break;
        case 1: /* random byte */
            if (size > 0) {
                buffer[pos] = (uint8_t)nci_rng_next(&drv->rng);
            }
            break;
        case 2: /* boundary byte */
            if (size > 0) {
                buffer[pos] = boundary[nci_rng_below(&drv->rng, sizeof(boundary))];
            }
            break;
        case 3: /* insert a random byte */
            if (size < drv->max_len) {
                memmove(buffer + pos + 1, buffer + pos, size - pos);
                buffer[pos] = (uint8_t)nci_rng_next(&drv->rng);
                size++;
            }
            break;
        case 4: { /* erase a run of bytes */
            if (size > 0) {
                uint32_t count = 1 + nci_rng_below(&drv->rng, (uint32_t)(size - pos));
                memmove(buffer + pos, buffer + pos + count, size - pos - count);
                size -= count;
            }
            break;
        }
        case 5: { /* copy a chunk of the input over another place */
            if (size > 1) {
                uint32_t from = nci_rng_below(&drv->rng, (uint32_t)size);
                uint32_t limit = (uint32_t)(size - (from > pos ? from : pos));
                uint32_t count = 1 + nci_rng_below(&drv->rng, limit);
                memmove(buffer + pos, buffer + from, count);
            }
            break;
        }
        case 6: { /* splice: append the tail of another input */
            const driver_input *other =
                &drv->inputs[nci_rng_below(&drv->rng, (uint32_t)drv->input_count)];
            if (other->size > 0) {
                uint32_t from = nci_rng_below(&drv->rng, (uint32_t)other->size);
                size_t count = other->size - from;
                if (count > drv->max_len - size) {
                    count = drv->max_len - size;
                }
                memcpy(buffer + size, other->bytes + from, count);
                size += count;
            }
            break;
        }
        default: /* truncate */
            size = pos;
            break;
        }
    }
    return size;
}

static int parse_flag(driver *drv, const char *arg)
{
    const char *value;
    if ((value = strchr(arg, '=')) == NULL) {
        return 0;
    }
    value++;
    if (strncmp(arg, "-runs=", 6) == 0) {
        drv->runs = strtoull(value, NULL, 10);
    } else if (strncmp(arg, "-seed=", 6) == 0) {
        drv->seed = strtoull(value, NULL, 10);
    } else if (strncmp(arg, "-max_len=", 9) == 0) {
        drv->max_len = (size_t)strtoull(value, NULL, 10);
    } else if (strncmp(arg, "-artifact_prefix=", 17) == 0) {
        drv->artifact_prefix = value;
    }
    return 1;
}

int main(int argc, char **argv)
{
    driver drv;
    memset(&drv, 0, sizeof(drv));
    drv.max_len = 4096;
    drv.seed = 1;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && !parse_flag(&drv, argv[i])) {
            fprintf(stderr,
                    "usage: %s [-runs=N] [-seed=S] [-max_len=N] [-artifact_prefix=P] "
                    "FILE_OR_DIR...\n",
                    argv[0]);
            return 2;
        }
    }
    install_crash_handlers();
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && !load_path(&drv, argv[i])) {
            return 2;
        }
    }

    char run_name[64];
    size_t replayed = drv.input_count;
    for (size_t i = 0; i < replayed; i++) {
        snprintf(run_name, sizeof(run_name), "input-%zu", i);
        run_one(&drv, drv.inputs[i].bytes, drv.inputs[i].size, run_name);
    }
    if (drv.input_count == 0) {
        /* Mutations need something to start from. */
        add_input(&drv, NULL, 0);
    }

    nci_rng_seed(&drv.rng, drv.seed);
    uint8_t *buffer = malloc(drv.max_len > 0 ? drv.max_len : 1);
    if (buffer == NULL) {
        fprintf(stderr, "standalone driver: out of memory\n");
        return 2;
    }
    for (unsigned long long run = 0; run < drv.runs; run++) {
        const driver_input *base = &drv.inputs[nci_rng_below(&drv.rng, (uint32_t)drv.input_count)];
        size_t size = base->size < drv.max_len ? base->size : drv.max_len;
        if (size > 0) {
            memcpy(buffer, base->bytes, size);
        }
        size = mutate(&drv, buffer, size);
        snprintf(run_name, sizeof(run_name), "seed%llu-run%llu", (unsigned long long)drv.seed, run);
        run_one(&drv, buffer, size, run_name);
    }
    free(buffer);

    printf("standalone driver: %zu corpus inputs replayed, %llu mutated inputs run "
           "(seed %llu), no crash\n",
           replayed, drv.runs, (unsigned long long)drv.seed);
    for (size_t i = 0; i < drv.input_count; i++) {
        free(drv.inputs[i].bytes);
    }
    free(drv.inputs);
    return 0;
}
