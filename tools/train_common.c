/*
 * What nvc-train's trainers share (tools/train_common.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/checkpoint.h"
#include "tools/common.h"
#include "tools/train_common.h"

/* ---- options -------------------------------------------------------------------------- */

static const struct option shared_longopts[] = {
    { "checkpoint", required_argument, NULL, 'o' }, { "restart", no_argument, NULL, TOOL_TRAIN_OPT_RESTART },
    { "export", required_argument, NULL, TOOL_TRAIN_OPT_EXPORT }, { "name", required_argument, NULL, TOOL_TRAIN_OPT_NAME },
    { "list", required_argument, NULL, TOOL_TRAIN_OPT_LIST }, { "widths", required_argument, NULL, TOOL_TRAIN_OPT_WIDTHS },
    { "latent", required_argument, NULL, TOOL_TRAIN_OPT_LATENT }, { "lambda", required_argument, NULL, TOOL_TRAIN_OPT_LAMBDA },
    { "crop", required_argument, NULL, TOOL_TRAIN_OPT_CROP }, { "batch", required_argument, NULL, 'b' },
    { "steps", required_argument, NULL, 'n' }, { "lr", required_argument, NULL, TOOL_TRAIN_OPT_LR },
    { "lr-min", required_argument, NULL, TOOL_TRAIN_OPT_LRMIN }, { "warmup", required_argument, NULL, TOOL_TRAIN_OPT_WARMUP },
    { "clip", required_argument, NULL, TOOL_TRAIN_OPT_CLIP }, { "save-every", required_argument, NULL, TOOL_TRAIN_OPT_SAVE },
    { "max-side", required_argument, NULL, TOOL_TRAIN_OPT_MAXSIDE }, { "seed", required_argument, NULL, TOOL_TRAIN_OPT_SEED },
    { "log", required_argument, NULL, TOOL_TRAIN_OPT_LOG }, { "threads", required_argument, NULL, 't' },
    { "device", required_argument, NULL, 'd' }, { "quiet", no_argument, NULL, TOOL_TRAIN_OPT_QUIET },
    { "new-schedule", no_argument, NULL, TOOL_TRAIN_OPT_NEWSCHED },
    { "help", no_argument, NULL, 'h' },
};

static void add_data(ToolTrainOptions *o, const char *p)
{
    o->data = realloc(o->data, sizeof(*o->data) * (o->ndata + 1));
    if (!o->data)
        tool_die("out of memory");
    o->data[o->ndata++] = p;
}

void tool_train_read_list(ToolTrainOptions *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        tool_die("%s: cannot open", path);
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s && *s != '#')
            add_data(o, strdup(s));
    }
    fclose(f);
}

void tool_train_add_data(const ToolTrainOptions *o, int (*add)(void *set, const char *path, const void *opts),
                         void *set, const void *opts)
{
    for (int i = 0; i < o->ndata; i++) {
        int ret = add(set, o->data[i], opts);
        if (ret < 0)
            tool_fail(ret, "%s", o->data[i]);
    }
}

void tool_train_need_data(const ToolTrainOptions *o)
{
    if (!o->ndata)
        tool_die("no training data given (see --help)");
}

float tool_train_parse_float(const char *s, const char *what)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= 0) || v > 1e6)
        tool_die("%s: '%s' is not a nonnegative number", what, s);
    return (float)v;
}

/* 0 when c is not a shared option the options struct holds. */
static int shared_option(ToolTrainOptions *o, const ToolTrainCli *cli, int c, const char *arg)
{
    switch (c) {
    case 'o': o->ckpt = arg; break;
    case TOOL_TRAIN_OPT_RESTART: o->restart = 1; break;
    case TOOL_TRAIN_OPT_NEWSCHED: o->new_schedule = 1; break;
    case TOOL_TRAIN_OPT_EXPORT: o->export_path = arg; break;
    case TOOL_TRAIN_OPT_NAME: o->name = arg; break;
    case TOOL_TRAIN_OPT_LIST: tool_train_read_list(o, arg); break;
    case TOOL_TRAIN_OPT_CROP: o->crop = (int)tool_parse_int(arg, "--crop", 64, 4096); break;
    case 'b': o->batch = (int)tool_parse_int(arg, "--batch", 1, 64); break;
    case 'n': o->steps = (int)tool_parse_int(arg, "--steps", 1, 1 << 30); break;
    case TOOL_TRAIN_OPT_LR: o->lr = tool_train_parse_float(arg, "--lr"); break;
    case TOOL_TRAIN_OPT_LRMIN: o->lr_min = tool_train_parse_float(arg, "--lr-min"); break;
    case TOOL_TRAIN_OPT_WARMUP: o->warmup = (int)tool_parse_int(arg, "--warmup", 0, 1 << 30); break;
    case TOOL_TRAIN_OPT_CLIP: o->clip = tool_train_parse_float(arg, "--clip"); break;
    case TOOL_TRAIN_OPT_SAVE: o->save_every = (int)tool_parse_int(arg, "--save-every", 1, 1 << 30); break;
    case TOOL_TRAIN_OPT_SEED: o->seed = (uint64_t)tool_parse_int(arg, "--seed", 0, INT64_MAX); break;
    case TOOL_TRAIN_OPT_LOG: o->log_path = arg; break;
    case 't': o->threads = (int)tool_parse_int(arg, "--threads", 1, 1024); break;
    case 'd':
        if (!strcmp(arg, "cpu"))
            o->device = NVC_NN_CPU;
        else if (!strcmp(arg, "cuda"))
            o->device = NVC_NN_CUDA;
        else
            tool_die("--device: '%s' is not cpu or cuda", arg);
        break;
    case TOOL_TRAIN_OPT_QUIET: o->quiet = 1; break;
    case TOOL_TRAIN_OPT_LAMBDA:
        if (sscanf(arg, "%f,%f", cli->lambda_min, cli->lambda_max) != 2)
            tool_die("--lambda: expected A,B");
        break;
    case TOOL_TRAIN_OPT_MAXSIDE: *cli->max_side = (int)tool_parse_int(arg, "--max-side", 0, 1 << 20); break;
    default: return 0;
    }
    return 1;
}

void tool_train_parse(int argc, char **argv, ToolTrainOptions *o, const ToolTrainCli *cli)
{
    *o = *cli->defaults;
    const size_t ns = sizeof(shared_longopts) / sizeof(shared_longopts[0]);
    size_t nown = 0;
    while (cli->longopts[nown].name)
        nown++;
    struct option *all = malloc(sizeof(*all) * (ns + nown + 1));
    if (!all)
        tool_die("out of memory");
    memcpy(all, shared_longopts, sizeof(shared_longopts));
    memcpy(all + ns, cli->longopts, sizeof(*all) * (nown + 1));
    int c;
    while ((c = getopt_long(argc, argv, "o:b:n:t:d:h", all, NULL)) != -1) {
        if (cli->option(cli->ctx, c, optarg) || shared_option(o, cli, c, optarg))
            continue;
        free(all);
        if (c == 'h') {
            cli->usage(stdout);
            exit(0);
        }
        cli->usage(stderr);
        exit(cli->usage_status);
    }
    free(all);
    if (o->crop % cli->align)
        tool_die("--crop: %d is not a multiple of %d", o->crop, cli->align);
    for (int i = optind; i < argc; i++)
        add_data(o, argv[i]);
}

/* ---- the architecture beside the checkpoint ------------------------------------------ */

void tool_train_write_cfg(const char *ckpt, void (*body)(FILE *f, const void *cfg, const void *opts), const void *cfg,
                          const void *opts)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s.cfg", ckpt);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        tool_die("%s: cannot write", tmp);
    body(f, cfg, opts);
    if (fclose(f) || rename(tmp, path))
        tool_die("%s: cannot write", path);
}

int tool_train_read_cfg(const char *ckpt, const ToolTrainCfgKey *keys, int nkeys, float *lambda_min,
                        float *lambda_max, void (*other)(void *ctx, const char *key, const char *val), void *ctx)
{
    char path[4096], line[256];
    snprintf(path, sizeof(path), "%s.cfg", ckpt);
    struct stat st;
    FILE *f = stat(ckpt, &st) ? NULL : fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char key[64], val[128];
        if (sscanf(line, "%63[^=]=%127s", key, val) != 2)
            continue;
        int i = 0;
        while (i < nkeys && strcmp(key, keys[i].key))
            i++;
        if (i < nkeys)
            *keys[i].value = atoi(val);
        else if (!strcmp(key, "lambda_min"))
            *lambda_min = (float)atof(val);
        else if (!strcmp(key, "lambda_max"))
            *lambda_max = (float)atof(val);
        else if (other)
            other(ctx, key, val);
    }
    fclose(f);
    fprintf(stderr, "%s: architecture from %s.cfg\n", tool_name, ckpt);
    return 1;
}

/* ---- a training run ------------------------------------------------------------------- */

NvcNn *tool_train_nn(const ToolTrainOptions *o)
{
    NvcLogger lg = tool_logger();
    NvcNn *nn;
    int ret = nvc_nn_create(&nn, o->device, o->threads, &lg);
    if (ret < 0)
        tool_fail(ret, "cannot start the %s backend", o->device == NVC_NN_CUDA ? "CUDA" : "CPU");
    return nn;
}

void tool_train_load(const ToolTrainOptions *o, NvcNn *nn, const NvcArena *params, float *pbuf, NvcAdam *opt,
                     uint64_t *step, const char *what)
{
    NvcLogger lg = tool_logger();
    int ret = nvc_checkpoint_load_model(o->ckpt, nn, params, pbuf, opt, step, &lg);
    if (ret < 0)
        tool_fail(ret, "%s: %s", o->ckpt, what);
}

static void save(const ToolTrainRun *r)
{
    NvcLogger lg = tool_logger();
    int ret = nvc_checkpoint_save_model(r->o->ckpt, r->nn, r->params, r->pbuf, r->opt, r->step, &lg);
    if (ret < 0)
        tool_fail(ret, "%s: cannot save", r->o->ckpt);
}

void tool_train_resume(ToolTrainRun *r)
{
    struct stat st;
    r->step = 0;
    if (r->o->restart || stat(r->o->ckpt, &st))
        return;
    tool_train_load(r->o, r->nn, r->params, r->pbuf, r->opt, &r->step, "cannot resume");
    fprintf(stderr, "%s: resuming %s at step %" PRIu64 "\n", tool_name, r->o->ckpt, r->step);
    NvcAdam *opt = r->opt;
    if (r->o->new_schedule) {
        opt->step = 0;
        fprintf(stderr, "%s: a new learning-rate schedule from step %" PRIu64 "\n", tool_name, r->step);
    }
    /* the schedule's end is the trainer's: the optimizer's count started
     * r->step - opt->step steps later (a new schedule) */
    if (opt->sched.total > 0 && r->step >= (uint64_t)opt->step)
        opt->sched.total = r->o->steps - (int)(r->step - (uint64_t)opt->step);
}

void tool_train_start(ToolTrainRun *r)
{
    const ToolTrainOptions *o = r->o;
    r->log = o->log_path ? fopen(o->log_path, "a") : NULL;
    if (o->log_path && !r->log)
        tool_die("%s: cannot open", o->log_path);
    r->rng = o->seed * 0x2545f4914f6cdd1dull + r->step * 0x9e3779b97f4a7c15ull;
    r->t0 = tool_now_s();
    r->step0 = r->step;
}

void tool_train_qualities(ToolTrainRun *r, int *q, int n, int levels)
{
    for (int b = 0; b < n; b++) {
        r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
        q[b] = (int)((r->rng >> 33) % (uint64_t)levels);
    }
}

void tool_train_check_loss(double loss, uint64_t step)
{
    if (!isfinite(loss))
        tool_die("step %" PRIu64 ": the loss is not finite; resume from the last checkpoint with a lower --lr", step);
}

double tool_train_rate(const ToolTrainRun *r)
{
    return (r->step - r->step0) / (tool_now_s() - r->t0);
}

void tool_train_progress(const ToolTrainRun *r, const char *fmt, ...)
{
    if (r->o->quiet)
        return;
    fprintf(stderr, "\r%s: step %" PRIu64 "/%d ", tool_name, r->step, r->o->steps);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("   ", stderr);
    fflush(stderr);
    tool_progress_pending = 1; /* a message before the next update starts on its own line */
}

void tool_train_log(const ToolTrainRun *r, const char *fmt, ...)
{
    if (!r->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->log, fmt, ap);
    va_end(ap);
    fflush(r->log);
}

void tool_train_step_done(ToolTrainRun *r)
{
    if (r->step % r->o->save_every == 0 || r->step == (uint64_t)r->o->steps)
        save(r);
}

int tool_train_finish(ToolTrainRun *r)
{
    if (tool_interrupted)
        save(r);
    tool_end_progress();
    if (r->log)
        fclose(r->log);
    r->log = NULL;
    return tool_interrupted ? 130 : 0;
}

void tool_train_report_export(const ToolTrainOptions *o, uint64_t step, size_t bytes, uint32_t crc)
{
    fprintf(stderr, "%s: %s: %s (step %" PRIu64 "), %zu bytes, crc %08x\n", tool_name, o->export_path, o->name, step,
            bytes, crc);
}
