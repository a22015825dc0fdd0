/*
 * nvc-rd: the sweep: which points to run, the workers that run them
 * (--jobs), the automatic rate search, and the progress display.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_RD_SWEEP_H
#define NVC_TOOLS_RD_SWEEP_H

#include "tools/rd/rd.h"
#include "tools/rd/results.h"

typedef struct RdTask {
    int clip;
    const RdCodec *codec;
    enum RdGop gop;
    char knob[16];
    char value[32];          /* fixed point; empty for an automatic series */
    int auto_points;         /* > 0: automatic search for that many points */
    int points_left;         /* points this task still has to measure */
    double weight;           /* pixels to code (ETA) */
    int state;               /* RD_TASK_* */
    double started;          /* rd_now() when it started */
    RdJob job;               /* the point being worked on */
} RdTask;

enum { RD_TASK_PENDING = 0, RD_TASK_RUNNING, RD_TASK_DONE, RD_TASK_FAILED };

typedef struct RdSweep {
    RdClip *clips;
    int nclips;
    RdTask *tasks;
    int ntasks;
    RdOptions opt;
    double bpp_lo, bpp_hi;   /* automatic search targets */
    int jobs;
    int max_points;          /* stop after this many new points (0: no limit) */
    int quiet;
    RdResults results;
    /* Run state (guarded by lock). */
    pthread_mutex_t lock;
    int points_total, points_done, points_failed, next;
    double t0;
    double codec_s[16], codec_px[16]; /* measured seconds and pixels per codec */
    int stop;                /* --max-points reached */
    int tty;
} RdSweep;

/* Count what is left to do (points already in the results are skipped;
 * automatic searches are replayed from probes.csv). */
void rd_sweep_plan(RdSweep *sw);

/* Run every pending task with sw->jobs workers. Returns the number of
 * failed points, or a negative error. */
int rd_sweep_run(RdSweep *sw);

#endif /* NVC_TOOLS_RD_SWEEP_H */
