/* demo-game as a program: screenshots on SDL's dummy video driver checked
 * pixel by pixel, the headless bot run, and argument errors. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RUN_TIMEOUT_MS 60000

/* Colours the renderer uses for known regions (render.c). */
static const uint8_t hud_rgb[3] = {20, 24, 36};
static const uint8_t wall_rgb[3] = {58, 66, 92};
static const uint8_t floor_rgb[3] = {14, 17, 26};

/* Starts demo-game with args (NULL-terminated, without argv[0]) on the dummy
 * video driver; stdout goes to out_path when not NULL. */
static pid_t spawn_demo(const char *const *args, const char *out_path)
{
    /* SIGINT starts blocked: demo-game unblocks it once its handler is in
     * place, so a signal sent at any time ends it cleanly. */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)DEMO_GAME_PATH;
    for (; args[argc - 1] && argc < 15; argc++) {
        argv[argc] = (char *)args[argc - 1];
    }
    argv[argc] = NULL;
    setenv("SDL_VIDEODRIVER", "dummy", 1);
    setenv("SDL_AUDIODRIVER", "dummy", 1);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (out_path) {
        posix_spawn_file_actions_addopen(&actions, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    pid_t pid = 0;
    int rc = posix_spawn(&pid, DEMO_GAME_PATH, &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    cr_assert_eq(rc, 0, "cannot start %s", DEMO_GAME_PATH);
    return pid;
}

/* The exit status of pid, or -1 when it did not exit normally within
 * timeout_ms (it is then killed). */
static int wait_demo(pid_t pid, int timeout_ms)
{
    const struct timespec pause = {0, 20 * 1000 * 1000};
    for (int waited_ms = 0; waited_ms < timeout_ms; waited_ms += 20) {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        nanosleep(&pause, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static int run_demo(const char *const *args, const char *out_path)
{
    return wait_demo(spawn_demo(args, out_path), RUN_TIMEOUT_MS);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    cr_assert(size > 0 && size < 64 * 1024 * 1024);
    uint8_t *data = malloc((size_t)size);
    cr_assert_not_null(data);
    cr_assert_eq(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return data;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
    }
    return crc ^ 0xffffffffu;
}

typedef struct image {
    int w, h;
    uint8_t *rgb; /* w * h * 3 */
} image;

/* Decodes the PNGs demo-game writes: 8-bit RGB, stored deflate blocks,
 * filter 0. Checks every CRC, the block lengths and the Adler-32. */
static image load_png(const char *path)
{
    size_t len = 0;
    uint8_t *d = read_file(path, &len);
    cr_assert(len > 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0, "not a PNG");
    image img = {0, 0, NULL};
    uint8_t *z = malloc(len);
    size_t zlen = 0;
    cr_assert_not_null(z);
    size_t pos = 8;
    bool ended = false;
    while (pos + 12 <= len && !ended) {
        uint32_t n = be32(d + pos);
        cr_assert(n <= len - pos - 12, "chunk overruns the file");
        const uint8_t *type = d + pos + 4;
        cr_assert_eq(crc32_of(type, n + 4), be32(d + pos + 8 + n), "bad CRC");
        if (memcmp(type, "IHDR", 4) == 0) {
            img.w = (int)be32(type + 4);
            img.h = (int)be32(type + 8);
            cr_assert(type[12] == 8 && type[13] == 2, "not 8-bit RGB");
        } else if (memcmp(type, "IDAT", 4) == 0) {
            memcpy(z + zlen, type + 4, n);
            zlen += n;
        } else if (memcmp(type, "IEND", 4) == 0) {
            ended = true;
        }
        pos += 12 + n;
    }
    cr_assert(ended && img.w > 0 && img.h > 0);
    size_t row = (size_t)img.w * 3 + 1;
    size_t raw_len = row * (size_t)img.h;
    uint8_t *raw = malloc(raw_len);
    cr_assert_not_null(raw);
    size_t zp = 2;
    size_t rp = 0;
    uint32_t a = 1;
    uint32_t b = 0;
    bool last = false;
    cr_assert(zlen > 6 && z[0] == 0x78);
    while (!last) {
        cr_assert(zp + 5 <= zlen);
        last = z[zp] & 1;
        cr_assert_eq(z[zp] & 6, 0, "not a stored block");
        uint32_t blen = z[zp + 1] | (uint32_t)z[zp + 2] << 8;
        cr_assert_eq(blen ^ 0xffffu, (uint32_t)(z[zp + 3] | z[zp + 4] << 8));
        zp += 5;
        cr_assert(zp + blen <= zlen && rp + blen <= raw_len);
        for (uint32_t i = 0; i < blen; i++) {
            a = (a + z[zp + i]) % 65521u;
            b = (b + a) % 65521u;
        }
        memcpy(raw + rp, z + zp, blen);
        zp += blen;
        rp += blen;
    }
    cr_assert_eq(rp, raw_len);
    cr_assert(zp + 4 <= zlen);
    cr_assert_eq(be32(z + zp), b << 16 | a, "bad Adler-32");
    img.rgb = malloc((size_t)img.w * img.h * 3);
    cr_assert_not_null(img.rgb);
    for (int y = 0; y < img.h; y++) {
        cr_assert_eq(raw[row * (size_t)y], 0, "row filter other than none");
        memcpy(img.rgb + (size_t)y * img.w * 3, raw + row * (size_t)y + 1, (size_t)img.w * 3);
    }
    free(raw);
    free(z);
    free(d);
    return img;
}

static const uint8_t *pixel(const image *img, int x, int y)
{
    return img->rgb + ((size_t)y * img->w + x) * 3;
}

/* Share (0..1) of the pixels in the rectangle that have exactly colour c. */
static double share_of(const image *img, int x0, int y0, int x1, int y1, const uint8_t c[3])
{
    long hits = 0;
    long total = 0;
    for (int y = y0; y < y1; y++) {
        for (int x = x0; x < x1; x++, total++) {
            hits += memcmp(pixel(img, x, y), c, 3) == 0;
        }
    }
    return total ? (double)hits / (double)total : 0;
}

static long count_where(const image *img, int x0, int y0, int x1, int y1, int min_sum,
                        int min_spread)
{
    long n = 0;
    for (int y = y0; y < y1; y++) {
        for (int x = x0; x < x1; x++) {
            const uint8_t *p = pixel(img, x, y);
            int hi = p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]);
            int lo = p[0] < p[1] ? (p[0] < p[2] ? p[0] : p[2]) : (p[1] < p[2] ? p[1] : p[2]);
            n += (p[0] + p[1] + p[2] >= min_sum && hi - lo >= min_spread);
        }
    }
    return n;
}

Test(demo_render, screenshot_shows_the_arena_and_the_hud, .timeout = 120)
{
    const char *path = DEMO_SCREENSHOT_DIR "/demo_screenshot.png";
    remove(path);
    const char *args[] = {"--screenshot", path, "--bots", "3", "--seed", "1", NULL};
    cr_assert_eq(run_demo(args, NULL), 0);
    image img = load_png(path);
    cr_assert_eq(img.w, 1280);
    cr_assert_eq(img.h, 720);
    /* HUD band across the top: its colour, with light text on it. */
    cr_assert_gt(share_of(&img, 0, 1, img.w, 24, hud_rgb), 0.6);
    cr_assert_gt(count_where(&img, 0, 1, img.w, 24, 450, 0), 300, "no HUD text");
    /* Walls: the left border and the centre block (760..840 x 390..510 units, 0.8 px per unit). */
    cr_assert_gt(share_of(&img, 2, 100, 17, 600, wall_rgb), 0.9);
    cr_assert_gt(share_of(&img, 612, 316, 668, 404, wall_rgb), 0.6);
    /* Mostly open floor, with ships and shots in colour on it. */
    cr_assert_gt(share_of(&img, 20, 30, 1260, 700, floor_rgb), 0.4);
    cr_assert_gt(count_where(&img, 20, 30, 1260, 700, 150, 80), 300, "no coloured ships or shots");
    free(img.rgb);
}

Test(demo_render, screenshot_as_bmp, .timeout = 120)
{
    const char *path = DEMO_SCREENSHOT_DIR "/demo_screenshot.bmp";
    remove(path);
    const char *args[] = {"--screenshot", path, "--bots", "1", "--netgraph", NULL};
    cr_assert_eq(run_demo(args, NULL), 0);
    size_t len = 0;
    uint8_t *d = read_file(path, &len);
    cr_assert(len > 1280 * 720 * 3 && d[0] == 'B' && d[1] == 'M');
    free(d);
}

Test(demo_render, headless_bots_fight_and_report, .timeout = 120)
{
    const char *path = DEMO_SCREENSHOT_DIR "/demo_headless.json";
    const char *args[] = {"--headless", "--bots", "6", "--duration", "30", "--seed", "3", NULL};
    cr_assert_eq(run_demo(args, path), 0);
    size_t len = 0;
    char *text = (char *)read_file(path, &len);
    text[len - 1] = '\0';
    unsigned ticks = 0;
    unsigned round = 0;
    unsigned long long shots = 0;
    unsigned long long kills = 0;
    cr_assert_eq(sscanf(text, "{\"ticks\": %u, \"round\": %u, \"shots\": %llu, \"kills\": %llu",
                        &ticks, &round, &shots, &kills),
                 4, "unexpected output: %s", text);
    cr_assert_eq(ticks, 30 * 60);
    cr_assert_gt(shots, 100);
    cr_assert_gt(kills, 0);
    cr_assert_not_null(strstr(text, "\"score\""));

    /* The same seed gives the same game. */
    const char *again_path = DEMO_SCREENSHOT_DIR "/demo_headless_again.json";
    cr_assert_eq(run_demo(args, again_path), 0);
    char *again = (char *)read_file(again_path, &len);
    again[len - 1] = '\0';
    cr_assert_str_eq(text, again);
    free(again);
    free(text);
}

Test(demo_render, bad_arguments_are_refused)
{
    const char *args1[] = {"--bots", "99", NULL};
    cr_assert_eq(run_demo(args1, NULL), 2);
    const char *args2[] = {"--no-such-flag", NULL};
    cr_assert_eq(run_demo(args2, NULL), 2);
    const char *args3[] = {"--help", NULL};
    cr_assert_eq(run_demo(args3, "/dev/null"), 0);
}

Test(demo_render, ctrl_c_ends_a_game_cleanly, .timeout = 120)
{
    const char *windowed[] = {"--bots", "3", NULL};
    const char *headless[] = {"--headless", "--duration", "86400", NULL};
    const char *const *modes[] = {windowed, headless};
    for (int m = 0; m < 2; m++) {
        pid_t pid = spawn_demo(modes[m], "/dev/null");
        const struct timespec run_for = {0,
                                         500 * 1000 * 1000}; /* let it play a little, if it can */
        nanosleep(&run_for, NULL);
        cr_assert_eq(kill(pid, SIGINT), 0);
        cr_assert_eq(wait_demo(pid, RUN_TIMEOUT_MS), 0, "mode %d did not exit cleanly on SIGINT",
                     m);
    }
}
