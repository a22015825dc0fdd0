/*
 * nvc-train: trains the learned image codec's model (nvc/image_model.h) on
 * random crops of pictures, on the CPU or CUDA, with checkpoints that
 * resume, and exports the deployable model file (integer prior networks).
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
#include <unistd.h>

#include "nn/checkpoint.h"
#include "nvc/image_export.h"
#include "nvc/image_model.h"
#include "nvc/train_data.h"
#include "tools/common.h"
#include "tools/train_video.h"

typedef struct Options {
    NvcImgConfig cfg;
    const char *ckpt, *export_path, *list, *log_path, *name;
    const char **data;
    int ndata;
    int crop, batch, steps, warmup, save_every, threads, restart, calib_batches, quiet;
    float lr, lr_min, clip;
    uint64_t seed;
    enum NvcNnBackend device;
    NvcTrainLoadOptions load;
} Options;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTIONS] DATA...\n"
            "Train the learned image codec on random crops of DATA (PNG, Y4M or raw .yuv files,\n"
            "or folders of them; Kodak is refused: it is the test set).\n"
            "\n"
            "  -o, --checkpoint FILE  checkpoint (default image.ckpt); an existing one is resumed,\n"
            "                         its architecture read from FILE.cfg\n"
            "      --restart          start from scratch even if the checkpoint exists\n"
            "      --export MODEL     write the deployable model file from the checkpoint\n"
            "                         (calibrates the integer prior on DATA) and exit\n"
            "      --name NAME        model name recorded in the exported file (default image-v1)\n"
            "      --list FILE        more DATA paths, one per line ('#' comments)\n"
            "Model (new checkpoints):\n"
            "      --prior P          gmm (hyperprior, four-part spatial prior, mixtures; default)\n"
            "                         or vq (McQuic-style multi-codebook VQ)\n"
            "      --widths A,B,C     transform widths at 1/2, 1/4, 1/8 (default 48,64,96)\n"
            "      --latent M         latent channels, multiple of 4 (default 96)\n"
            "      --hyper C          hyper-latent channels (default 64)\n"
            "      --prior-width P    prior network width (default 128)\n"
            "      --mixtures K       mixture components, 1 to 4 (default 3)\n"
            "      --vq G,K,L         VQ groups, codewords, levels (default 24,256,2)\n"
            "      --lambda A,B       lambda at q 0 and 63 (default 0.0015,0.12)\n"
            "Training:\n"
            "      --crop N           crop size, multiple of 64 (default 128)\n"
            "  -b, --batch N          crops per step (default 8)\n"
            "  -n, --steps N          total steps (default 40000)\n"
            "      --lr LR            peak learning rate (default 3e-4)\n"
            "      --lr-min LR        final learning rate of the cosine decay (default 1e-5)\n"
            "      --warmup N         warm-up steps (default 500)\n"
            "      --clip X           gradient norm clip (default 1; 0: none)\n"
            "      --save-every N     steps between checkpoints (default 500)\n"
            "      --frames N         frames taken from each video (default 6)\n"
            "      --max-side N       downscale pictures whose shorter side exceeds N (default 1080)\n"
            "      --seed N           seed (default 1)\n"
            "      --log FILE         append one CSV line per 50 steps\n"
            "  -t, --threads N        CPU threads (default: all)\n"
            "  -d, --device DEV       cpu (default) or cuda\n"
            "      --quiet            no progress line\n"
            "  -h, --help\n"
            "nvc-train --model video --help: the video model's trainer.\n",
            tool_name);
}

static void parse_list3(const char *s, int *a, int *b, int *c, const char *what)
{
    if (sscanf(s, "%d,%d,%d", a, b, c) != 3)
        tool_die("%s: expected three comma-separated integers, got '%s'", what, s);
}

static void add_data(Options *o, const char *p)
{
    o->data = realloc(o->data, sizeof(*o->data) * (o->ndata + 1));
    if (!o->data)
        tool_die("out of memory");
    o->data[o->ndata++] = p;
}

static void read_list(Options *o, const char *path)
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
        if (!*s || *s == '#')
            continue;
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

static void parse_options(int argc, char **argv, Options *o)
{
    enum { O_RESTART = 256, O_EXPORT, O_NAME, O_LIST, O_PRIOR, O_WIDTHS, O_LATENT, O_HYPER, O_PW, O_MIX, O_VQ,
           O_LAMBDA, O_CROP, O_LR, O_LRMIN, O_WARMUP, O_CLIP, O_SAVE, O_FRAMES, O_MAXSIDE, O_SEED, O_LOG, O_QUIET };
    static const struct option longopts[] = {
        { "checkpoint", required_argument, NULL, 'o' }, { "restart", no_argument, NULL, O_RESTART },
        { "export", required_argument, NULL, O_EXPORT }, { "name", required_argument, NULL, O_NAME },
        { "list", required_argument, NULL, O_LIST }, { "prior", required_argument, NULL, O_PRIOR },
        { "widths", required_argument, NULL, O_WIDTHS }, { "latent", required_argument, NULL, O_LATENT },
        { "hyper", required_argument, NULL, O_HYPER }, { "prior-width", required_argument, NULL, O_PW },
        { "mixtures", required_argument, NULL, O_MIX }, { "vq", required_argument, NULL, O_VQ },
        { "lambda", required_argument, NULL, O_LAMBDA }, { "crop", required_argument, NULL, O_CROP },
        { "batch", required_argument, NULL, 'b' }, { "steps", required_argument, NULL, 'n' },
        { "lr", required_argument, NULL, O_LR }, { "lr-min", required_argument, NULL, O_LRMIN },
        { "warmup", required_argument, NULL, O_WARMUP }, { "clip", required_argument, NULL, O_CLIP },
        { "save-every", required_argument, NULL, O_SAVE }, { "frames", required_argument, NULL, O_FRAMES },
        { "max-side", required_argument, NULL, O_MAXSIDE }, { "seed", required_argument, NULL, O_SEED },
        { "log", required_argument, NULL, O_LOG }, { "threads", required_argument, NULL, 't' },
        { "device", required_argument, NULL, 'd' }, { "quiet", no_argument, NULL, O_QUIET },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    nvc_img_config_default(&o->cfg, NVC_IMG_PRIOR_GMM);
    nvc_train_load_default(&o->load);
    o->ckpt = "image.ckpt";
    o->name = "image-v1";
    o->crop = 128, o->batch = 8, o->steps = 40000, o->warmup = 500, o->save_every = 500;
    o->lr = 3e-4f, o->lr_min = 1e-5f, o->clip = 1.0f, o->seed = 1, o->calib_batches = 16;
    int c;
    while ((c = getopt_long(argc, argv, "o:b:n:t:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->ckpt = optarg; break;
        case O_RESTART: o->restart = 1; break;
        case O_EXPORT: o->export_path = optarg; break;
        case O_NAME: o->name = optarg; break;
        case O_LIST: o->list = optarg; break;
        case O_PRIOR:
            if (!strcmp(optarg, "gmm"))
                o->cfg.prior = NVC_IMG_PRIOR_GMM;
            else if (!strcmp(optarg, "vq"))
                o->cfg.prior = NVC_IMG_PRIOR_VQ;
            else
                tool_die("--prior: '%s' is not gmm or vq", optarg);
            break;
        case O_WIDTHS: parse_list3(optarg, &o->cfg.c1, &o->cfg.c2, &o->cfg.c3, "--widths"); break;
        case O_LATENT: o->cfg.M = (int)tool_parse_int(optarg, "--latent", 4, 1024); break;
        case O_HYPER: o->cfg.Cz = (int)tool_parse_int(optarg, "--hyper", 1, 1024); break;
        case O_PW: o->cfg.P = (int)tool_parse_int(optarg, "--prior-width", 4, 1024); break;
        case O_MIX: o->cfg.K = (int)tool_parse_int(optarg, "--mixtures", 1, NVC_IMG_KMAX); break;
        case O_VQ: parse_list3(optarg, &o->cfg.vq_groups, &o->cfg.vq_k, &o->cfg.vq_levels, "--vq"); break;
        case O_LAMBDA:
            if (sscanf(optarg, "%f,%f", &o->cfg.lambda_min, &o->cfg.lambda_max) != 2)
                tool_die("--lambda: expected A,B");
            break;
        case O_CROP: o->crop = (int)tool_parse_int(optarg, "--crop", 64, 4096); break;
        case 'b': o->batch = (int)tool_parse_int(optarg, "--batch", 1, 64); break;
        case 'n': o->steps = (int)tool_parse_int(optarg, "--steps", 1, 1 << 30); break;
        case O_LR: o->lr = parse_float(optarg, "--lr"); break;
        case O_LRMIN: o->lr_min = parse_float(optarg, "--lr-min"); break;
        case O_WARMUP: o->warmup = (int)tool_parse_int(optarg, "--warmup", 0, 1 << 30); break;
        case O_CLIP: o->clip = parse_float(optarg, "--clip"); break;
        case O_SAVE: o->save_every = (int)tool_parse_int(optarg, "--save-every", 1, 1 << 30); break;
        case O_FRAMES: o->load.frames_per_video = (int)tool_parse_int(optarg, "--frames", 1, 100000); break;
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
        default: usage(stderr); exit(1);
        }
    }
    if (o->crop % NVC_IMG_ALIGN)
        tool_die("--crop: %d is not a multiple of %d", o->crop, NVC_IMG_ALIGN);
    for (int i = optind; i < argc; i++)
        add_data(o, argv[i]);
    if (o->list)
        read_list(o, o->list);
    if (!o->ndata)
        tool_die("no training data given (see --help)");
}

/* ---- the architecture beside the checkpoint ------------------------------------------ */

static void cfg_path(const char *ckpt, char *buf, size_t n)
{
    snprintf(buf, n, "%s.cfg", ckpt);
}

static void write_cfg(const char *ckpt, const NvcImgConfig *c, const Options *o)
{
    char path[4096], tmp[4200];
    cfg_path(ckpt, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        tool_die("%s: cannot write", tmp);
    fprintf(f, "prior=%s\nc1=%d\nc2=%d\nc3=%d\nM=%d\nCz=%d\nP=%d\nK=%d\nvq_groups=%d\nvq_k=%d\nvq_levels=%d\n",
            c->prior == NVC_IMG_PRIOR_VQ ? "vq" : "gmm", c->c1, c->c2, c->c3, c->M, c->Cz, c->P, c->K,
            c->vq_groups, c->vq_k, c->vq_levels);
    fprintf(f, "lambda_min=%.9g\nlambda_max=%.9g\ncrop=%d\nbatch=%d\nsteps=%d\nlr=%g\nlr_min=%g\nwarmup=%d\nseed=%llu\n",
            c->lambda_min, c->lambda_max, o->crop, o->batch, o->steps, o->lr, o->lr_min, o->warmup,
            (unsigned long long)o->seed);
    if (fclose(f) || rename(tmp, path))
        tool_die("%s: cannot write", path);
}

/* Architecture of an existing checkpoint; 0 when there is none. */
static int read_cfg(const char *ckpt, NvcImgConfig *c)
{
    char path[4096], line[256];
    cfg_path(ckpt, path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char key[64], val[128];
        if (sscanf(line, "%63[^=]=%127s", key, val) != 2)
            continue;
        int *ip = !strcmp(key, "c1") ? &c->c1 : !strcmp(key, "c2") ? &c->c2 : !strcmp(key, "c3") ? &c->c3
                : !strcmp(key, "M") ? &c->M : !strcmp(key, "Cz") ? &c->Cz : !strcmp(key, "P") ? &c->P
                : !strcmp(key, "K") ? &c->K : !strcmp(key, "vq_groups") ? &c->vq_groups
                : !strcmp(key, "vq_k") ? &c->vq_k : !strcmp(key, "vq_levels") ? &c->vq_levels : NULL;
        if (ip)
            *ip = atoi(val);
        else if (!strcmp(key, "prior"))
            c->prior = !strcmp(val, "vq") ? NVC_IMG_PRIOR_VQ : NVC_IMG_PRIOR_GMM;
        else if (!strcmp(key, "lambda_min"))
            c->lambda_min = (float)atof(val);
        else if (!strcmp(key, "lambda_max"))
            c->lambda_max = (float)atof(val);
    }
    fclose(f);
    return 1;
}

/* ---- training ------------------------------------------------------------------------------ */

static int save(const Options *o, NvcImgModel *m, NvcNn *nn, uint64_t step)
{
    NvcLogger lg = tool_logger();
    return nvc_checkpoint_save_model(o->ckpt, nn, &m->params, m->pbuf, &m->opt, step, &lg);
}

static int load(const Options *o, NvcImgModel *m, NvcNn *nn, uint64_t *step)
{
    NvcLogger lg = tool_logger();
    return nvc_checkpoint_load_model(o->ckpt, nn, &m->params, m->pbuf, &m->opt, step, &lg);
}

static void fmt_time(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, n, "?");
    else if (s >= 3600)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static int train(const Options *o, NvcNn *nn, const NvcTrainSet *set, const NvcImgConfig *cfg)
{
    NvcLrSchedule sched = { o->lr, o->lr_min, o->warmup, o->steps };
    NvcImgModel m;
    int ret = nvc_img_create(&m, nn, cfg, o->batch, o->crop, o->crop, 1, sched, o->seed);
    if (ret < 0)
        tool_fail(ret, "cannot create the model");
    m.opt.clip = o->clip;
    uint64_t step = 0;
    struct stat st;
    if (!o->restart && !stat(o->ckpt, &st)) {
        if ((ret = load(o, &m, nn, &step)) < 0)
            tool_fail(ret, "%s: cannot resume", o->ckpt);
        fprintf(stderr, "%s: resuming %s at step %" PRIu64 "\n", tool_name, o->ckpt, step);
    }
    write_cfg(o->ckpt, cfg, o);
    FILE *log = o->log_path ? fopen(o->log_path, "a") : NULL;
    if (o->log_path && !log)
        tool_die("%s: cannot open", o->log_path);
    double enc, dec, prior;
    nvc_img_macs(cfg, &enc, &dec, &prior);
    fprintf(stderr, "%s: %zu parameters, %.1fk MAC/pixel (analysis %.1fk, synthesis %.1fk, prior %.2fk), "
            "%d pictures (%.1f Mpixels)\n", tool_name, nvc_arena_numel(&m.params), (enc + dec + prior) / 1e3,
            enc / 1e3, dec / 1e3, prior / 1e3, set->n, set->pixels / 1e6);
    const size_t nx = (size_t)o->batch * 3 * o->crop * o->crop;
    float *x = malloc(nx * sizeof(float));
    if (!x)
        tool_die("out of memory");
    uint64_t rng = o->seed * 0x2545f4914f6cdd1dull + step * 0x9e3779b97f4a7c15ull;
    NvcImgStats avg = { 0 };
    int navg = 0;
    const double t0 = tool_now_s();
    const uint64_t step0 = step;
    while (step < (uint64_t)o->steps && !tool_interrupted) {
        nvc_train_set_crops(set, x, o->batch, o->crop, &rng);
        int q[64];
        for (int b = 0; b < o->batch; b++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            q[b] = (int)((rng >> 33) % NVC_IMG_QLEVELS);
        }
        NvcImgStats s;
        if ((ret = nvc_nn_upload(nn, m.a.x, x, nx)) < 0 || (ret = nvc_img_set_quality(&m, nn, q)) < 0 ||
            (ret = nvc_img_train_step(&m, nn, step, &s)) < 0)
            tool_fail(ret, "training step %" PRIu64, step);
        if (!isfinite(s.loss))
            tool_die("step %" PRIu64 ": the loss is not finite; resume from the last checkpoint with a lower --lr",
                     step);
        step++;
        avg.loss += s.loss, avg.bpp += s.bpp, avg.bpp_z += s.bpp_z, avg.psnr += s.psnr;
        for (int i = 0; i < 4; i++)
            avg.psnr_q[i] += s.psnr_q[i] * s.n_q[i], avg.n_q[i] += s.n_q[i];
        navg++;
        if (step % 10 == 0 || step == (uint64_t)o->steps) {
            double el = tool_now_s() - t0, rate = (step - step0) / el;
            char eta[32];
            fmt_time((o->steps - step) / rate, eta, sizeof(eta));
            if (!o->quiet) {
                fprintf(stderr, "\r%s: step %" PRIu64 "/%d loss %.4f bpp %.3f (z %.3f) PSNR %.2f [q0-15 %.1f q48-63 %.1f]"
                        " lr %.2g %.2f step/s ETA %s   ", tool_name, step, o->steps, avg.loss / navg, avg.bpp / navg,
                        avg.bpp_z / navg, avg.psnr / navg, avg.n_q[0] ? avg.psnr_q[0] / avg.n_q[0] : 0.0,
                        avg.n_q[3] ? avg.psnr_q[3] / avg.n_q[3] : 0.0, m.opt.last_lr, rate, eta);
                fflush(stderr);
            }
        }
        if (step % 50 == 0 || step == (uint64_t)o->steps) {
            if (log) {
                fprintf(log, "%" PRIu64 ",%.5f,%.5f,%.5f,%.4f,%.3f,%.3f,%.3f,%.3f,%.3g,%.3f\n", step,
                        avg.loss / navg, avg.bpp / navg, avg.bpp_z / navg, avg.psnr / navg,
                        avg.n_q[0] ? avg.psnr_q[0] / avg.n_q[0] : 0.0, avg.n_q[1] ? avg.psnr_q[1] / avg.n_q[1] : 0.0,
                        avg.n_q[2] ? avg.psnr_q[2] / avg.n_q[2] : 0.0, avg.n_q[3] ? avg.psnr_q[3] / avg.n_q[3] : 0.0,
                        m.opt.last_norm, tool_now_s() - t0);
                fflush(log);
            }
            memset(&avg, 0, sizeof(avg));
            navg = 0;
        }
        if (step % o->save_every == 0 || step == (uint64_t)o->steps || tool_interrupted)
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
    nvc_img_free(&m, nn);
    return tool_interrupted ? 130 : 0;
}

static int export_model(const Options *o, NvcNn *nn, const NvcTrainSet *set, const NvcImgConfig *cfg)
{
    NvcLrSchedule sched = { 0 };
    NvcImgModel m;
    int ret = nvc_img_create(&m, nn, cfg, o->batch, o->crop, o->crop, 0, sched, o->seed);
    if (ret < 0)
        tool_fail(ret, "cannot create the model");
    uint64_t step = 0;
    if ((ret = load(o, &m, nn, &step)) < 0)
        tool_fail(ret, "%s: cannot read", o->ckpt);
    NvcLogger lg = tool_logger();
    NvcImgExportStats es;
    ret = nvc_img_export(&m, nn, set, o->calib_batches, o->name, step, o->export_path, &es, &lg);
    if (ret < 0)
        tool_fail(ret, "%s: export failed", o->export_path);
    fprintf(stderr, "%s: %s: %s (step %" PRIu64 "), %zu bytes, crc %08x\n", tool_name, o->export_path, o->name,
            step, es.bytes, es.crc);
    if (cfg->prior == NVC_IMG_PRIOR_GMM)
        fprintf(stderr, "%s: calibration crops: %.4f bpp with the float prior, %.4f bpp with the integer prior "
                "(%+.2f%%)\n", tool_name, es.bpp_float, es.bpp_int, 100.0 * (es.bpp_int / es.bpp_float - 1.0));
    nvc_img_free(&m, nn);
    return 0;
}

/* "--model image|video" picks the trainer; it is removed from argv. Returns
 * 1 for video. */
static int pick_model(int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--model") && strncmp(argv[i], "--model=", 8))
            continue;
        const int eq = argv[i][7] == '=';
        const char *v = eq ? argv[i] + 8 : i + 1 < *argc ? argv[i + 1] : "";
        if (strcmp(v, "image") && strcmp(v, "video"))
            tool_die("--model: '%s' is not image or video", v);
        const int n = eq ? 1 : 2;
        memmove(argv + i, argv + i + n, sizeof(*argv) * (*argc - i - n + 1));
        *argc -= n;
        return !strcmp(v, "video");
    }
    return 0;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    if (pick_model(&argc, argv))
        return tool_train_video(argc, argv);
    Options o;
    memset(&o, 0, sizeof(o));
    parse_options(argc, argv, &o);
    NvcLogger lg = tool_logger();
    o.load.logger = lg;
    o.load.min_side = o.crop;
    NvcImgConfig cfg = o.cfg;
    struct stat st;
    if ((!o.restart || o.export_path) && !stat(o.ckpt, &st) && read_cfg(o.ckpt, &cfg))
        fprintf(stderr, "%s: architecture from %s.cfg\n", tool_name, o.ckpt);
    if (nvc_img_config_check(&cfg, &lg) < 0)
        return 1;
    NvcTrainSet set = { 0 };
    for (int i = 0; i < o.ndata; i++) {
        int ret = nvc_train_set_add(&set, o.data[i], &o.load);
        if (ret < 0)
            tool_fail(ret, "%s", o.data[i]);
    }
    if (!set.n)
        tool_die("no picture of the training data is at least %dx%d", o.crop, o.crop);
    NvcNn *nn;
    int ret = nvc_nn_create(&nn, o.device, o.threads, &lg);
    if (ret < 0)
        tool_fail(ret, "cannot start the %s backend", o.device == NVC_NN_CUDA ? "CUDA" : "CPU");
    int rc = o.export_path ? export_model(&o, nn, &set, &cfg) : train(&o, nn, &set, &cfg);
    nvc_nn_free(&nn);
    nvc_train_set_free(&set);
    free(o.data);
    return rc;
}
