/*
 * Helpers shared by the command-line tools (not part of libnvc).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_COMMON_H
#define NVC_TOOLS_COMMON_H

#include <signal.h>
#include <stdint.h>

#include "nvc/common.h"

/* Program name for messages ("nvc-info"); set by tool_init. */
extern const char *tool_name;

/* Set by SIGINT/SIGTERM after tool_init; long loops check it and stop cleanly
 * (removing partial outputs) instead of dying mid-write. */
extern volatile sig_atomic_t tool_interrupted;

/* Record the program name, install the interrupt handlers. */
void tool_init(const char *argv0);

/* A logger printing "<tool>: message" lines on stderr for levels up to
 * *verbosity (NVC_LOG_WARNING by default; -v raises it). */
NvcLogger tool_logger(void);
extern int tool_verbosity;

/* With on != 0, FFmpeg's messages (nvc_ffmpeg_route_log) are kept and the
 * last few printed before the next error the tool logger prints, so that
 * e.g. a bad filter graph shows libavfilter's reason; 0 stops and clears. */
void tool_ffmpeg_details(int on);

/* A logger that keeps the library's last error line in buf, for tools that
 * report errors per item instead of exiting. */
typedef struct ToolCapture {
    char *buf;
    size_t size;
} ToolCapture;
NvcLogger tool_capture_logger(ToolCapture *c);

/* The end of a tool that wrote `out`: returns 0 for ret == 0, prints
 * "interrupted: <out> not written" and returns 130 for NVC_ERR(EINTR), and
 * exits(1) through tool_fail for any other error. */
int tool_exit_status(int ret, const char *out);

/* The same, naming `subject` (a file; kept, not copied) in errors and
 * warnings that do not start with it already: "nvdec: in.nvc: CRC mismatch". */
NvcLogger tool_logger_for(const char *subject);

/* Print "<tool>: message" on stderr (one line). */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the error and exit(1); after Ctrl-C (tool_interrupted) print
 * "interrupted" and exit(130) instead, as tool_fail does. */
void tool_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Errors the tool logger printed so far. */
extern int tool_errors_logged;

/* Set by a tool that left a progress line on the terminal without its
 * newline ("\r" updates): the next message of tool_error, tool_die or the
 * tool logger ends that line first, so it starts on a line of its own. */
extern int tool_progress_pending;
/* End a pending progress line (a newline on stderr), if any. */
void tool_end_progress(void);

/* Exit(1) after a failed library call: prints "<tool>: <what>: <error text>"
 * unless the library already logged the reason through tool_logger. */
void tool_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* "<tool> (nvc) <version>" on stdout. */
/* Seconds of the monotonic clock (for durations and rates). */
double tool_now_s(void);

void tool_print_version(void);

/* Parse a whole decimal integer in [min, max]; dies with a clear message
 * naming `what` otherwise. */
long long tool_parse_int(const char *s, const char *what, long long min, long long max);

/* Parse "WxH" into w and h (1..NVC_MAX_DIMENSION); dies otherwise. */
void tool_parse_size(const char *s, int *w, int *h);

/* Parse a frame rate "30", "30000/1001" or "29.97" into num/den; dies otherwise. */
void tool_parse_rate(const char *s, int *num, int *den);

#endif /* NVC_TOOLS_COMMON_H */
