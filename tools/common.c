/*
 * Helpers shared by the command-line tools.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/common.h"

const char *tool_name = "nvc";
volatile sig_atomic_t tool_interrupted;
int tool_verbosity = NVC_LOG_WARNING;

static void on_signal(int sig)
{
    if (tool_interrupted) /* second Ctrl-C: give up at once */
        _exit(128 + sig);
    tool_interrupted = 1;
}

void tool_init(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    tool_name = slash ? slash + 1 : argv0;
    if (!strncmp(tool_name, "lt-", 3)) /* libtool wrapper */
        tool_name += 3;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe becomes a write error we report */
}

int tool_errors_logged;

/* FFmpeg's own error and warning lines (routed as NVC_LOG_INFO "ffmpeg: ...")
 * kept while tool_ffmpeg_details is on, to print before an error. */
static int details_on, n_details;
static char details[4][400];

void tool_ffmpeg_details(int on)
{
    details_on = on;
    n_details = 0;
}

static void keep_detail(const char *fmt, va_list ap)
{
    char line[sizeof(details[0])];
    va_list copy;
    va_copy(copy, ap);
    vsnprintf(line, sizeof(line), fmt, copy);
    va_end(copy);
    if (strncmp(line, "ffmpeg: ", 8))
        return;
    if (n_details == 4) {
        memmove(details[0], details[1], sizeof(details[0]) * 3);
        n_details--;
    }
    memcpy(details[n_details++], line, sizeof(line));
}

int tool_progress_pending;

void tool_end_progress(void)
{
    if (tool_progress_pending)
        fputc('\n', stderr);
    tool_progress_pending = 0;
}

static void log_to_stderr(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    if (details_on && level == NVC_LOG_INFO && tool_verbosity < NVC_LOG_INFO)
        keep_detail(fmt, ap);
    if (details_on && level == NVC_LOG_ERROR && !tool_errors_logged) {
        for (int i = 0; i < n_details; i++)
            fprintf(stderr, "%s: %s\n", tool_name, details[i]);
        n_details = 0;
    }
    if ((int)level > tool_verbosity)
        return;
    /* After Ctrl-C, failures are the interrupted reads and writes: the tool
     * says "interrupted" instead. */
    if (level == NVC_LOG_ERROR && tool_interrupted && tool_verbosity < NVC_LOG_INFO)
        return;
    /* The first error is the one line a user needs; the ones that follow
     * (an output not written after a failed read ...) only with -v. */
    if (level == NVC_LOG_ERROR && tool_errors_logged++ && tool_verbosity < NVC_LOG_INFO)
        return;
    static const char *const prefix[] = { "", "warning: ", "", "debug: " };
    tool_end_progress();
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    const char *subject = cookie;
    size_t n = subject ? strlen(subject) : 0;
    if (subject && level <= NVC_LOG_WARNING && !(!strncmp(msg, subject, n) && msg[n] == ':'))
        fprintf(stderr, "%s: %s%s: %s\n", tool_name, prefix[level], subject, msg);
    else
        fprintf(stderr, "%s: %s%s\n", tool_name, prefix[level <= NVC_LOG_DEBUG ? level : NVC_LOG_DEBUG], msg);
}

NvcLogger tool_logger(void)
{
    return (NvcLogger){ .cookie = NULL, .callback = log_to_stderr };
}

NvcLogger tool_logger_for(const char *subject)
{
    return (NvcLogger){ .cookie = (void *)subject, .callback = log_to_stderr };
}

static void vreport(const char *fmt, va_list ap)
{
    tool_errors_logged++; /* a later tool_fail adds no second line */
    tool_end_progress();
    fprintf(stderr, "%s: ", tool_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tool_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
}

/* A failure after Ctrl-C comes from the interruption (a read or write cut
 * short): report that, with the usual status of a SIGINT. */
static void exit_if_interrupted(void)
{
    if (tool_interrupted) {
        fprintf(stderr, "%s: interrupted\n", tool_name);
        exit(130);
    }
}

void tool_die(const char *fmt, ...)
{
    exit_if_interrupted();
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    exit(1);
}

void tool_fail(int err, const char *fmt, ...)
{
    exit_if_interrupted();
    if (!tool_errors_logged) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: ", tool_name);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, ": %s\n", nvc_error_string(err));
        va_end(ap);
    }
    exit(1);
}

static void capture_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    ToolCapture *c = cookie;
    if (level == NVC_LOG_ERROR && c->buf && c->size)
        vsnprintf(c->buf, c->size, fmt, ap);
}

NvcLogger tool_capture_logger(ToolCapture *c)
{
    return (NvcLogger){ .cookie = c, .callback = capture_log };
}

int tool_exit_status(int ret, const char *out)
{
    if (ret == NVC_ERR(EINTR)) {
        tool_error("interrupted: %s not written", out);
        return 130;
    }
    if (ret < 0)
        tool_fail(ret, "%s not written", out);
    return 0;
}

double tool_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void tool_print_version(void)
{
    printf("%s (nvc) %s\n", tool_name, nvc_version());
}

long long tool_parse_int(const char *s, const char *what, long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        tool_die("%s: '%s' is not an integer", what, s);
    if (v < min || v > max)
        tool_die("%s: %lld is outside %lld..%lld", what, v, min, max);
    return v;
}

void tool_parse_size(const char *s, int *w, int *h)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (errno || end == s || (*end != 'x' && *end != 'X'))
        tool_die("size '%s': expected WIDTHxHEIGHT", s);
    const char *t = end + 1;
    long b = strtol(t, &end, 10);
    if (errno || end == t || *end)
        tool_die("size '%s': expected WIDTHxHEIGHT", s);
    if (a < 1 || b < 1 || a > NVC_MAX_DIMENSION || b > NVC_MAX_DIMENSION)
        tool_die("size '%s': each dimension must be 1..%d", s, NVC_MAX_DIMENSION);
    *w = (int)a;
    *h = (int)b;
}

void tool_parse_rate(const char *s, int *num, int *den)
{
    char *end;
    errno = 0;
    if (strchr(s, '/')) {
        long a = strtol(s, &end, 10);
        if (errno || end == s || *end != '/')
            tool_die("frame rate '%s': expected N, N/D or a decimal", s);
        const char *t = end + 1;
        long b = strtol(t, &end, 10);
        if (errno || end == t || *end || a < 1 || b < 1 || a > INT32_MAX || b > INT32_MAX)
            tool_die("frame rate '%s': expected N, N/D or a decimal", s);
        *num = (int)a;
        *den = (int)b;
        return;
    }
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 1e6)
        tool_die("frame rate '%s': expected N, N/D or a decimal", s);
    if (v == (double)(long)v) {
        *num = (int)v;
        *den = 1;
    } else if (((long)(v * 1001 + 0.5)) % 1000 == 0) { /* 23.976, 29.97, 59.94 */
        *num = (int)((long)(v * 1001 + 0.5));
        *den = 1001;
    } else {
        *num = (int)(v * 1000 + 0.5);
        *den = 1000;
    }
}
