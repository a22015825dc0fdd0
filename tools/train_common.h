/*
 * What nvc-train's two trainers (the image model, tools/nvc-train.c, and
 * the video model, tools/nvc-train-video.c) share: the common options, the
 * architecture file beside the checkpoint (FILE.cfg, "key=value" lines),
 * checkpoints that resume, the progress line and CSV log, Ctrl-C.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_TRAIN_COMMON_H
#define NVC_TOOLS_TRAIN_COMMON_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "nn/nn.h"
#include "nn/optim.h"

typedef struct ToolTrainOptions {
    const char *ckpt, *export_path, *log_path, *name;
    const char **data;   /* DATA paths (positional and --list) */
    int ndata;
    int crop, batch, steps, warmup, save_every, threads, restart, quiet;
    int new_schedule;    /* --new-schedule: the resumed run's optimizer step count starts again */
    float lr, lr_min, clip;
    uint64_t seed;
    enum NvcNnBackend device;
} ToolTrainOptions;

/* getopt codes of the shared long options; a trainer numbers its own from
 * TOOL_TRAIN_OPT_NEXT. The shared table also names --widths and --latent,
 * whose values only the trainer knows: it handles those codes itself. */
enum {
    TOOL_TRAIN_OPT_RESTART = 256, TOOL_TRAIN_OPT_EXPORT, TOOL_TRAIN_OPT_NAME, TOOL_TRAIN_OPT_LIST,
    TOOL_TRAIN_OPT_WIDTHS, TOOL_TRAIN_OPT_LATENT, TOOL_TRAIN_OPT_LAMBDA, TOOL_TRAIN_OPT_CROP, TOOL_TRAIN_OPT_LR,
    TOOL_TRAIN_OPT_LRMIN, TOOL_TRAIN_OPT_WARMUP, TOOL_TRAIN_OPT_CLIP, TOOL_TRAIN_OPT_SAVE, TOOL_TRAIN_OPT_MAXSIDE,
    TOOL_TRAIN_OPT_SEED, TOOL_TRAIN_OPT_LOG, TOOL_TRAIN_OPT_QUIET, TOOL_TRAIN_OPT_NEWSCHED, TOOL_TRAIN_OPT_NEXT
};

typedef struct ToolTrainCli {
    const ToolTrainOptions *defaults;
    const struct option *longopts;          /* the trainer's own, ending with a zero entry */
    int (*option)(void *ctx, int c, const char *arg); /* 1: handled; called before the shared handling */
    void *ctx;
    void (*usage)(FILE *f);
    int usage_status;                       /* exit status after a bad option */
    int align;                              /* --crop must be a multiple of it */
    float *lambda_min, *lambda_max;         /* --lambda A,B: where the model configuration keeps them */
    int *max_side;                          /* --max-side: where the data loading options keep it */
} ToolTrainCli;

/* Parse argv into o (the defaults, then the options and the positional
 * DATA). Dies on a bad option or value. */
void tool_train_parse(int argc, char **argv, ToolTrainOptions *o, const ToolTrainCli *cli);

/* Append the paths listed in a file (one a line, '#' comments) to o->data. */
void tool_train_read_list(ToolTrainOptions *o, const char *path);

/* Add every DATA path to a trainer's set through add (dies on an error). */
void tool_train_add_data(const ToolTrainOptions *o, int (*add)(void *set, const char *path, const void *opts),
                         void *set, const void *opts);

/* Dies without DATA ("no training data given"). */
void tool_train_need_data(const ToolTrainOptions *o);

/* A nonnegative float option value; dies otherwise. */
float tool_train_parse_float(const char *s, const char *what);

/* ---- the architecture beside the checkpoint ------------------------------------------ */

/* Write ckpt.cfg (temporary name, then rename): body prints the lines of
 * the model configuration cfg and the trainer's options opts. */
void tool_train_write_cfg(const char *ckpt, void (*body)(FILE *f, const void *cfg, const void *opts), const void *cfg,
                          const void *opts);

typedef struct ToolTrainCfgKey {
    const char *key;
    int *value;
} ToolTrainCfgKey;

/* Read ckpt.cfg when ckpt and it exist: the integer keys, lambda_min and
 * lambda_max, and every other key through other (may be NULL); prints
 * "architecture from ckpt.cfg". 0 when there is none, 1 after reading. */
int tool_train_read_cfg(const char *ckpt, const ToolTrainCfgKey *keys, int nkeys, float *lambda_min,
                        float *lambda_max, void (*other)(void *ctx, const char *key, const char *val), void *ctx);

/* ---- a training run ------------------------------------------------------------------- */

typedef struct ToolTrainRun {
    const ToolTrainOptions *o;
    NvcNn *nn;
    const NvcArena *params;  /* the model's parameters and optimizer (what a checkpoint holds) */
    float *pbuf;
    NvcAdam *opt;
    uint64_t step, step0;    /* steps done; at the start of this run */
    double t0;               /* tool_now_s() at the start */
    FILE *log;               /* --log, or NULL */
    uint64_t rng;            /* the trainer's random state */
} ToolTrainRun;

/* The backend of --device and --threads; dies when it cannot start. */
NvcNn *tool_train_nn(const ToolTrainOptions *o);

/* Load o->ckpt into the model (step in *step); dies with "<ckpt>: <what>". */
void tool_train_load(const ToolTrainOptions *o, NvcNn *nn, const NvcArena *params, float *pbuf, NvcAdam *opt,
                     uint64_t *step, const char *what);

/* Resume o->ckpt unless --restart or absent. The learning-rate schedule
 * runs on the optimizer's step count; --new-schedule sets it to 0 (warm-up,
 * cosine and Adam's bias correction start again: for tensors whose moments
 * are zero, e.g. after --prior-steps). The cosine then ends at --steps, the
 * trainer's count, on this and every later resume. */
void tool_train_resume(ToolTrainRun *r);

/* After resuming and writing the .cfg: open --log, seed r->rng, start the clock. */
void tool_train_start(ToolTrainRun *r);

/* The quality index of each of n batch items, uniform in 0..levels-1. */
void tool_train_qualities(ToolTrainRun *r, int *q, int n, int levels);

/* A step's loss is finite or training stops (resume with a lower --lr). */
void tool_train_check_loss(double loss, uint64_t step);

/* Steps per second since the start of this run. */
double tool_train_rate(const ToolTrainRun *r);

/* "\r<tool>: step N/M <body>" on stderr unless --quiet. */
void tool_train_progress(const ToolTrainRun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One CSV line (fmt ends with its newline) to --log when logging. */
void tool_train_log(const ToolTrainRun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* After r->step was incremented: the checkpoint every --save-every and at the end. */
void tool_train_step_done(ToolTrainRun *r);

/* The end of the loop: save after Ctrl-C, end the progress line, close the
 * log. Returns the exit status (130 after Ctrl-C). */
int tool_train_finish(ToolTrainRun *r);

/* "<tool>: <model>: <name> (step N), B bytes, crc C" */
void tool_train_report_export(const ToolTrainOptions *o, uint64_t step, size_t bytes, uint32_t crc);

/* nvc-train --model video (tools/nvc-train-video.c): argv less "--model video". */
int tool_train_video(int argc, char **argv);

#endif /* NVC_TOOLS_TRAIN_COMMON_H */
