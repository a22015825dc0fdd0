/*
 * nvc-train --model video: trains the video P-frame model
 * (nvc/video_model.h) on chains of consecutive frames of video clips, on the
 * CPU or CUDA, with checkpoints that resume (nvc/VIDEO.md, "Training").
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "nn/checkpoint.h"
#include "nvc/video_data.h"
#include "nvc/video_file.h"
#include "nvc/video_intra.h"
#include "nvc/video_model.h"
#include "tools/common.h"
#include "tools/train_video.h"

typedef struct VOptions {
    NvcVidConfig cfg;
    const char *ckpt, *log_path, *export_path, *name;
    const char **data;
    int ndata;
    int crop, batch, chain, steps, warmup, save_every, threads, restart, quiet, intra_source, me_source, calib;
    int eval;
    float lr, lr_min, clip;
    uint64_t seed;
    enum NvcNnBackend device;
    NvcVidClipOptions load;
} VOptions;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: nvc-train --model video [options] DATA...\n"
            "Trains the video P-frame model on chains of consecutive frames of the clips in DATA (.y4m files\n"
            "or folders of them).\n"
            "  -o, --checkpoint FILE  checkpoint (default video.ckpt); an existing one is resumed\n"
            "      --restart          start from scratch even if the checkpoint exists\n"
            "      --export MODEL     write the deployable model file from the checkpoint\n"
            "      --calib N          export: calibration batches of chains (default 16)\n"
            "      --name NAME        export: model name recorded in the file (default video-v1)\n"
            "      --eval             evaluate the checkpoint (or the initial weights without one) on --calib\n"
            "                         fixed batches of chains of DATA at q 0, 21, 42, 63\n"
            "      --list FILE        more DATA paths, one per line ('#' comments)\n"
            "      --widths A,B,C,D   feature widths at 1, 1/2, 1/4, 1/8 (default 24,48,64,64)\n"
            "      --latent M         residual latent channels, multiple of 4 (default 96)\n"
            "      --mv-latent M      motion latent channels, multiple of 4 (default 32)\n"
            "      --lambda A,B       lambda at q 0 and 63 (default 0.0015,0.12)\n"
            "      --crop N           crop size, multiple of 64 (default 128)\n"
            "  -b, --batch N          chains per step (default 2)\n"
            "      --chain T          P frames per chain (default 3)\n"
            "      --intra KIND       frame 0 of a chain: image (the image codec at the chain's q, default)\n"
            "                         or source (the frame itself)\n"
            "      --me KIND          motion estimated against recon (the previous decoded frame, default)\n"
            "                         or source (the previous source frame)\n"
            "  -n, --steps N          total steps (default 20000)\n"
            "      --lr LR            peak learning rate (default 2e-4)\n"
            "      --lr-min LR        final learning rate of the cosine decay (default 1e-5)\n"
            "      --warmup N         warm-up steps (default 200)\n"
            "      --clip X           gradient norm clip (default 1; 0: none)\n"
            "      --save-every N     steps between checkpoints (default 200)\n"
            "      --max-frames N     frames read from the start of each clip (default 64)\n"
            "      --max-side N       downscale clips whose shorter side exceeds N (default 720)\n"
            "      --seed N           seed (default 1)\n"
            "      --log FILE         append one CSV line per 10 steps\n"
            "  -t, --threads N        CPU threads (default: all)\n"
            "  -d, --device DEV       cpu (default) or cuda\n"
            "      --quiet            no progress line\n"
            "  -h, --help\n");
}

static void add_data(VOptions *o, const char *p)
{
    o->data = realloc(o->data, sizeof(*o->data) * (o->ndata + 1));
    if (!o->data)
        tool_die("out of memory");
    o->data[o->ndata++] = p;
}

static void read_list(VOptions *o, const char *path)
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

static float parse_float(const char *s, const char *what)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= 0) || v > 1e6)
        tool_die("%s: '%s' is not a nonnegative number", what, s);
    return (float)v;
}

static void parse_options(int argc, char **argv, VOptions *o)
{
    enum { O_RESTART = 256, O_EXPORT, O_CALIB, O_NAME, O_EVAL, O_LIST, O_WIDTHS, O_LATENT, O_MVLATENT, O_LAMBDA, O_CROP, O_CHAIN, O_INTRA, O_ME,
           O_LR, O_LRMIN, O_WARMUP, O_CLIP, O_SAVE, O_MAXFRAMES, O_MAXSIDE, O_SEED, O_LOG, O_QUIET };
    static const struct option longopts[] = {
        { "checkpoint", required_argument, NULL, 'o' }, { "restart", no_argument, NULL, O_RESTART },
        { "export", required_argument, NULL, O_EXPORT }, { "calib", required_argument, NULL, O_CALIB },
        { "name", required_argument, NULL, O_NAME }, { "eval", no_argument, NULL, O_EVAL },
        { "list", required_argument, NULL, O_LIST }, { "widths", required_argument, NULL, O_WIDTHS },
        { "latent", required_argument, NULL, O_LATENT }, { "mv-latent", required_argument, NULL, O_MVLATENT },
        { "lambda", required_argument, NULL, O_LAMBDA }, { "crop", required_argument, NULL, O_CROP },
        { "batch", required_argument, NULL, 'b' }, { "chain", required_argument, NULL, O_CHAIN },
        { "intra", required_argument, NULL, O_INTRA }, { "me", required_argument, NULL, O_ME },
        { "steps", required_argument, NULL, 'n' }, { "lr", required_argument, NULL, O_LR },
        { "lr-min", required_argument, NULL, O_LRMIN }, { "warmup", required_argument, NULL, O_WARMUP },
        { "clip", required_argument, NULL, O_CLIP }, { "save-every", required_argument, NULL, O_SAVE },
        { "max-frames", required_argument, NULL, O_MAXFRAMES }, { "max-side", required_argument, NULL, O_MAXSIDE },
        { "seed", required_argument, NULL, O_SEED }, { "log", required_argument, NULL, O_LOG },
        { "threads", required_argument, NULL, 't' }, { "device", required_argument, NULL, 'd' },
        { "quiet", no_argument, NULL, O_QUIET }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    nvc_vid_config_default(&o->cfg);
    nvc_vid_clip_options_default(&o->load);
    o->ckpt = "video.ckpt";
    o->name = "video-v1";
    o->calib = 16;
    o->crop = 128, o->batch = 2, o->chain = 3, o->steps = 20000, o->warmup = 200, o->save_every = 200;
    o->lr = 2e-4f, o->lr_min = 1e-5f, o->clip = 1.0f, o->seed = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:b:n:t:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->ckpt = optarg; break;
        case O_RESTART: o->restart = 1; break;
        case O_EXPORT: o->export_path = optarg; break;
        case O_EVAL: o->eval = 1; break;
        case O_CALIB: o->calib = (int)tool_parse_int(optarg, "--calib", 1, 100000); break;
        case O_NAME:
            if (strlen(optarg) > NVC_VID_NAME_MAX)
                tool_die("--name: longer than %d bytes", NVC_VID_NAME_MAX);
            o->name = optarg;
            break;
        case O_LIST: read_list(o, optarg); break;
        case O_WIDTHS:
            if (sscanf(optarg, "%d,%d,%d,%d", &o->cfg.g1, &o->cfg.g2, &o->cfg.g4, &o->cfg.g8) != 4)
                tool_die("--widths: expected four comma-separated integers, got '%s'", optarg);
            break;
        case O_LATENT: o->cfg.M = (int)tool_parse_int(optarg, "--latent", 4, 1024); break;
        case O_MVLATENT: o->cfg.Mm = (int)tool_parse_int(optarg, "--mv-latent", 4, 1024); break;
        case O_LAMBDA:
            if (sscanf(optarg, "%f,%f", &o->cfg.lambda_min, &o->cfg.lambda_max) != 2)
                tool_die("--lambda: expected A,B");
            break;
        case O_CROP: o->crop = (int)tool_parse_int(optarg, "--crop", 64, 4096); break;
        case 'b': o->batch = (int)tool_parse_int(optarg, "--batch", 1, 64); break;
        case O_CHAIN: o->chain = (int)tool_parse_int(optarg, "--chain", 1, NVC_VID_TMAX); break;
        case O_INTRA:
            if (strcmp(optarg, "image") && strcmp(optarg, "source"))
                tool_die("--intra: '%s' is not image or source", optarg);
            o->intra_source = !strcmp(optarg, "source");
            break;
        case O_ME:
            if (strcmp(optarg, "recon") && strcmp(optarg, "source"))
                tool_die("--me: '%s' is not recon or source", optarg);
            o->me_source = !strcmp(optarg, "source");
            break;
        case 'n': o->steps = (int)tool_parse_int(optarg, "--steps", 1, 1 << 30); break;
        case O_LR: o->lr = parse_float(optarg, "--lr"); break;
        case O_LRMIN: o->lr_min = parse_float(optarg, "--lr-min"); break;
        case O_WARMUP: o->warmup = (int)tool_parse_int(optarg, "--warmup", 0, 1 << 30); break;
        case O_CLIP: o->clip = parse_float(optarg, "--clip"); break;
        case O_SAVE: o->save_every = (int)tool_parse_int(optarg, "--save-every", 1, 1 << 30); break;
        case O_MAXFRAMES: o->load.max_frames = (int)tool_parse_int(optarg, "--max-frames", 2, 100000); break;
        case O_MAXSIDE: o->load.max_short_side = (int)tool_parse_int(optarg, "--max-side", 0, 1 << 20); break;
        case O_SEED: o->seed = (uint64_t)tool_parse_int(optarg, "--seed", 0, INT64_MAX); break;
        case O_LOG: o->log_path = optarg; break;
        case 't': o->threads = (int)tool_parse_int(optarg, "--threads", 1, 1024); break;
        case 'd':
            if (!strcmp(optarg, "cpu"))
                o->device = NVC_NN_CPU;
            else if (!strcmp(optarg, "cuda"))
                o->device = NVC_NN_CUDA;
            else
                tool_die("--device: '%s' is not cpu or cuda", optarg);
            break;
        case O_QUIET: o->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (o->crop % NVC_VID_ALIGN)
        tool_die("--crop: %d is not a multiple of %d", o->crop, NVC_VID_ALIGN);
    for (int i = optind; i < argc; i++)
        add_data(o, argv[i]);
    if (!o->ndata)
        tool_die("no training data given (see --help)");
}

/* ---- the architecture beside the checkpoint ------------------------------------------ */

static void write_cfg(const VOptions *o, const NvcVidConfig *c)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s.cfg", o->ckpt);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        tool_die("%s: cannot write", tmp);
    fprintf(f, "model=video\ng1=%d\ng2=%d\ng4=%d\ng8=%d\nM=%d\nCz=%d\nP=%d\ncm=%d\nMm=%d\nCzm=%d\nPm=%d\n", c->g1,
            c->g2, c->g4, c->g8, c->M, c->Cz, c->P, c->cm, c->Mm, c->Czm, c->Pm);
    fprintf(f, "lambda_min=%.9g\nlambda_max=%.9g\ncrop=%d\nbatch=%d\nchain=%d\nsteps=%d\nlr=%g\nlr_min=%g\n"
            "warmup=%d\nintra=%s\nme=%s\nseed=%llu\n", c->lambda_min, c->lambda_max, o->crop, o->batch, o->chain,
            o->steps, o->lr, o->lr_min, o->warmup, o->intra_source ? "source" : "image",
            o->me_source ? "source" : "recon", (unsigned long long)o->seed);
    if (fclose(f) || rename(tmp, path))
        tool_die("%s: cannot write", path);
}

static int read_cfg(const char *ckpt, NvcVidConfig *c)
{
    char path[4096], line[256];
    snprintf(path, sizeof(path), "%s.cfg", ckpt);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char key[64], val[128];
        if (sscanf(line, "%63[^=]=%127s", key, val) != 2)
            continue;
        static const char *const names[] = { "g1", "g2", "g4", "g8", "M", "Cz", "P", "cm", "Mm", "Czm", "Pm" };
        int *fields[] = { &c->g1, &c->g2, &c->g4, &c->g8, &c->M, &c->Cz, &c->P, &c->cm, &c->Mm, &c->Czm, &c->Pm };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (!strcmp(key, names[i]))
                *fields[i] = atoi(val);
        if (!strcmp(key, "lambda_min"))
            c->lambda_min = (float)atof(val);
        else if (!strcmp(key, "lambda_max"))
            c->lambda_max = (float)atof(val);
        else if (!strcmp(key, "model") && strcmp(val, "video"))
            tool_die("%s is the checkpoint of a %s model", ckpt, val);
    }
    fclose(f);
    return 1;
}

/* ---- checkpoints ---------------------------------------------------------------------- */

static int save(const VOptions *o, NvcVidModel *m, NvcNn *nn, uint64_t step)
{
    NvcLogger lg = tool_logger();
    return nvc_checkpoint_save_model(o->ckpt, nn, &m->params, m->pbuf, &m->opt, step, &lg);
}

static int load(const VOptions *o, NvcVidModel *m, NvcNn *nn, uint64_t *step)
{
    NvcLogger lg = tool_logger();
    return nvc_checkpoint_load_model(o->ckpt, nn, &m->params, m->pbuf, &m->opt, step, &lg);
}

/* ---- training --------------------------------------------------------------------------- */

typedef struct Avg {
    double loss, bpp, bpp_mv, psnr, psnr_first, psnr_last;
    int n;
} Avg;

static void progress(const VOptions *o, const NvcVidModel *m, const Avg *a, uint64_t step, double rate, FILE *log,
                     double el)
{
    if (!a->n)
        return;
    const double n = a->n;
    if (!o->quiet) {
        fprintf(stderr, "\r%s: step %" PRIu64 "/%d loss %.4f bpp %.4f (mv %.4f) PSNR %.2f [P1 %.2f P%d %.2f] lr %.2g "
                "%.2f s/step   ", tool_name, step, o->steps, a->loss / n, a->bpp / n, a->bpp_mv / n, a->psnr / n,
                a->psnr_first / n, o->chain, a->psnr_last / n, m->opt.last_lr, 1.0 / rate);
        fflush(stderr);
    }
    if (log) {
        fprintf(log, "%" PRIu64 ",%.5f,%.5f,%.5f,%.4f,%.4f,%.4f,%.3g,%.1f\n", step, a->loss / n, a->bpp / n,
                a->bpp_mv / n, a->psnr / n, a->psnr_first / n, a->psnr_last / n, m->opt.last_norm, el);
        fflush(log);
    }
}

static int train(const VOptions *o, NvcNn *nn, const NvcVidClipSet *set, const NvcVidConfig *cfg)
{
    NvcLrSchedule sched = { o->lr, o->lr_min, o->warmup, o->steps };
    NvcVidModel m;
    int ret = nvc_vid_create(&m, nn, cfg, o->batch, o->chain, o->crop, o->crop, 1, sched, o->seed);
    if (ret < 0)
        tool_fail(ret, "cannot create the model (%zu MiB)",
                  nvc_vid_memory(cfg, o->batch, o->chain, o->crop, o->crop, 1) >> 20);
    m.opt.clip = o->clip;
    m.me_on_source = o->me_source;
    NvcVidIntra vi;
    NvcLogger lg = tool_logger();
    if (!o->intra_source && (ret = nvc_vid_intra_open(&vi, nn, o->batch, o->crop, o->crop, &lg)) < 0)
        tool_fail(ret, "cannot load the image model for the intra frames (--intra source does without)");
    uint64_t step = 0;
    struct stat st;
    if (!o->restart && !stat(o->ckpt, &st)) {
        if ((ret = load(o, &m, nn, &step)) < 0)
            tool_fail(ret, "%s: cannot resume", o->ckpt);
        fprintf(stderr, "%s: resuming %s at step %" PRIu64 "\n", tool_name, o->ckpt, step);
    }
    write_cfg(o, cfg);
    FILE *log = o->log_path ? fopen(o->log_path, "a") : NULL;
    if (o->log_path && !log)
        tool_die("%s: cannot open", o->log_path);
    double enc, dec;
    nvc_vid_macs(cfg, &enc, &dec);
    fprintf(stderr, "%s: video model, %zu parameters, %.1fk MAC/pixel to decode (%.1fk to encode), %zu MiB; "
            "%d clips (%" PRId64 " frames)\n", tool_name, nvc_arena_numel(&m.params), dec / 1e3, enc / 1e3,
            nvc_vid_memory(cfg, o->batch, o->chain, o->crop, o->crop, 1) >> 20, set->n, set->frames);
    const size_t nx = (size_t)o->batch * 3 * o->crop * o->crop;
    float *x = malloc(nx * sizeof(float) * (o->chain + 1)), *x0 = malloc(nx * sizeof(float));
    if (!x || !x0)
        tool_die("out of memory");
    uint64_t rng = o->seed * 0x2545f4914f6cdd1dull + step * 0x9e3779b97f4a7c15ull;
    Avg avg = { 0 };
    const double t0 = tool_now_s();
    const uint64_t step0 = step;
    while (step < (uint64_t)o->steps && !tool_interrupted) {
        if ((ret = nvc_vid_clips_chains(set, x, o->batch, o->chain + 1, o->crop, &rng)) < 0)
            tool_fail(ret, "no clip has %d frames of %dx%d", o->chain + 1, o->crop, o->crop);
        int q[64];
        for (int b = 0; b < o->batch; b++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            q[b] = (int)((rng >> 33) % NVC_VID_QLEVELS);
        }
        if (o->intra_source)
            memcpy(x0, x, nx * sizeof(float));
        else if ((ret = nvc_vid_intra_code(&vi, nn, x, q, x0)) < 0)
            tool_fail(ret, "intra frame, step %" PRIu64, step);
        NvcVidStats s;
        if ((ret = nvc_vid_set_chain(&m, nn, x0, x + nx)) < 0 || (ret = nvc_vid_set_quality(&m, nn, q)) < 0 ||
            (ret = nvc_vid_train_step(&m, nn, step, &s)) < 0)
            tool_fail(ret, "training step %" PRIu64, step);
        if (!isfinite(s.loss))
            tool_die("step %" PRIu64 ": the loss is not finite; resume from the last checkpoint with a lower --lr",
                     step);
        step++;
        avg.loss += s.loss, avg.bpp += s.bpp, avg.bpp_mv += s.bpp_mv, avg.psnr += s.psnr;
        avg.psnr_first += s.psnr_t[0], avg.psnr_last += s.psnr_t[o->chain - 1];
        avg.n++;
        if (step % 10 == 0 || step == (uint64_t)o->steps) {
            const double el = tool_now_s() - t0;
            progress(o, &m, &avg, step, (step - step0) / el, log, el);
            memset(&avg, 0, sizeof(avg));
        }
        if (step % o->save_every == 0 || step == (uint64_t)o->steps)
            if ((ret = save(o, &m, nn, step)) < 0)
                tool_fail(ret, "%s: cannot save", o->ckpt);
    }
    if (tool_interrupted && (ret = save(o, &m, nn, step)) < 0)
        tool_fail(ret, "%s: cannot save", o->ckpt);
    if (!o->quiet)
        fputc('\n', stderr);
    if (log)
        fclose(log);
    free(x);
    free(x0);
    if (!o->intra_source)
        nvc_vid_intra_close(&vi, nn);
    nvc_vid_free(&m, nn);
    return tool_interrupted ? 130 : 0;
}

static int export_model(const VOptions *o, NvcNn *nn, const NvcVidClipSet *set, const NvcVidConfig *cfg)
{
    NvcLrSchedule sched = { 0 };
    NvcVidModel m;
    int ret = nvc_vid_create(&m, nn, cfg, o->batch, o->chain, o->crop, o->crop, 0, sched, o->seed);
    if (ret < 0)
        tool_fail(ret, "cannot create the model");
    uint64_t step = 0;
    if ((ret = load(o, &m, nn, &step)) < 0)
        tool_fail(ret, "%s: cannot read", o->ckpt);
    NvcLogger lg = tool_logger();
    NvcVidExportStats es;
    if ((ret = nvc_vid_export(&m, nn, set, o->calib, o->name, step, o->export_path, &es, &lg)) < 0)
        tool_fail(ret, "%s: export failed", o->export_path);
    fprintf(stderr, "%s: %s: %s (step %" PRIu64 "), %zu bytes, crc %08x\n", tool_name, o->export_path, o->name, step,
            es.bytes, es.crc);
    fprintf(stderr, "%s: calibration chains: %.4f bpp with the float priors, %.4f bpp with the integer priors "
            "(%+.2f%%)\n", tool_name, es.bpp_float, es.bpp_int, 100.0 * (es.bpp_int / es.bpp_float - 1.0));
    nvc_vid_free(&m, nn);
    return 0;
}

/* Rate and quality of the checkpoint on fixed chains of the data, per q. */
static int eval_model(const VOptions *o, NvcNn *nn, const NvcVidClipSet *set, const NvcVidConfig *cfg)
{
    NvcLrSchedule sched = { 0 };
    NvcVidModel m;
    int ret = nvc_vid_create(&m, nn, cfg, o->batch, o->chain, o->crop, o->crop, 0, sched, o->seed);
    if (ret < 0)
        tool_fail(ret, "cannot create the model");
    m.me_on_source = o->me_source;
    uint64_t step = 0;
    struct stat st;
    if (!stat(o->ckpt, &st) && (ret = load(o, &m, nn, &step)) < 0)
        tool_fail(ret, "%s: cannot read", o->ckpt);
    NvcVidIntra vi;
    NvcLogger lg = tool_logger();
    if (!o->intra_source && (ret = nvc_vid_intra_open(&vi, nn, o->batch, o->crop, o->crop, &lg)) < 0)
        tool_fail(ret, "cannot load the image model for the intra frames (--intra source does without)");
    const size_t nx = (size_t)o->batch * 3 * o->crop * o->crop;
    float *x = malloc(nx * sizeof(float) * (o->chain + 1)), *x0 = malloc(nx * sizeof(float));
    if (!x || !x0)
        tool_die("out of memory");
    printf("# step %" PRIu64 ", %d batches of %d chains of %d P frames, %dx%d\n", step, o->calib, o->batch, o->chain,
           o->crop, o->crop);
    printf("q,bpp,bpp_mv,psnr,psnr_p1,psnr_plast\n");
    static const int qs[4] = { 0, 21, 42, 63 };
    for (int k = 0; k < 4; k++) {
        double bpp = 0, mv = 0, ps = 0, p1 = 0, pl = 0;
        int q[64];
        for (int b = 0; b < o->batch; b++)
            q[b] = qs[k];
        for (int i = 0; i < o->calib; i++) {
            uint64_t rng = 0xe7a1ull + (uint64_t)i;
            NvcVidStats s;
            if ((ret = nvc_vid_clips_chains(set, x, o->batch, o->chain + 1, o->crop, &rng)) < 0)
                tool_fail(ret, "no clip has %d frames of %dx%d", o->chain + 1, o->crop, o->crop);
            if (o->intra_source)
                memcpy(x0, x, nx * sizeof(float));
            else if ((ret = nvc_vid_intra_code(&vi, nn, x, q, x0)) < 0)
                tool_fail(ret, "intra frame");
            if ((ret = nvc_vid_set_chain(&m, nn, x0, x + nx)) < 0 || (ret = nvc_vid_set_quality(&m, nn, q)) < 0 ||
                (ret = nvc_vid_eval(&m, nn, &s)) < 0)
                tool_fail(ret, "evaluation");
            bpp += s.bpp, mv += s.bpp_mv, ps += s.psnr, p1 += s.psnr_t[0], pl += s.psnr_t[o->chain - 1];
        }
        const double n = o->calib;
        printf("%d,%.4f,%.4f,%.2f,%.2f,%.2f\n", qs[k], bpp / n, mv / n, ps / n, p1 / n, pl / n);
        fflush(stdout);
    }
    free(x);
    free(x0);
    if (!o->intra_source)
        nvc_vid_intra_close(&vi, nn);
    nvc_vid_free(&m, nn);
    return 0;
}

int tool_train_video(int argc, char **argv)
{
    VOptions o;
    memset(&o, 0, sizeof(o));
    parse_options(argc, argv, &o);
    NvcLogger lg = tool_logger();
    o.load.logger = lg;
    o.load.min_side = o.crop;
    o.load.min_frames = o.chain + 1;
    NvcVidConfig cfg = o.cfg;
    struct stat st;
    if (o.export_path && stat(o.ckpt, &st))
        tool_die("%s: no checkpoint to export", o.ckpt);
    if ((!o.restart || o.export_path || o.eval) && !stat(o.ckpt, &st) && read_cfg(o.ckpt, &cfg))
        fprintf(stderr, "%s: architecture from %s.cfg\n", tool_name, o.ckpt);
    if (nvc_vid_config_check(&cfg, &lg) < 0)
        return 1;
    NvcVidClipSet set = { 0 };
    for (int i = 0; i < o.ndata; i++) {
        int ret = nvc_vid_clips_add(&set, o.data[i], &o.load);
        if (ret < 0)
            tool_fail(ret, "%s", o.data[i]);
    }
    if (!set.n)
        tool_die("no clip of the training data has %d frames of at least %dx%d", o.chain + 1, o.crop, o.crop);
    NvcNn *nn;
    int ret = nvc_nn_create(&nn, o.device, o.threads, &lg);
    if (ret < 0)
        tool_fail(ret, "cannot start the %s backend", o.device == NVC_NN_CUDA ? "CUDA" : "CPU");
    int rc = o.export_path ? export_model(&o, nn, &set, &cfg) : o.eval ? eval_model(&o, nn, &set, &cfg)
                                                                      : train(&o, nn, &set, &cfg);
    nvc_nn_free(&nn);
    nvc_vid_clips_free(&set);
    free(o.data);
    return rc;
}
