# Learned image (intra) codec and, later, the conditional video codec:
# models on the nn engine, integer prior networks, training data, codecs.
libnvc_core_la_SOURCES += \
	nvc/image_model.h \
	nvc/image_model.c \
	nvc/image_config.c \
	nvc/image_vq.h \
	nvc/image_vq.c \
	nvc/image_int.h \
	nvc/image_int.c \
	nvc/image_latent.h \
	nvc/image_latent.c \
	nvc/image_file.h \
	nvc/image_file.c \
	nvc/image_export.h \
	nvc/image_export.c \
	nvc/train_data.h \
	nvc/train_data.c \
	nvc/image_codec.h \
	nvc/image_codec.c \
	nvc/video_flow.h \
	nvc/video_flow.c \
	nvc/video_prior.h \
	nvc/video_prior.c \
	nvc/video_model.h \
	nvc/video_model.c \
	nvc/video_data.h \
	nvc/video_data.c \
	nvc/video_intra.h \
	nvc/video_intra.c \
	nvc/video_int.h \
	nvc/video_int.c \
	nvc/video_file.h \
	nvc/video_file.c \
	nvc/video_codec.h \
	nvc/video_codec.c

# The shipped models, assembled into the library (.incbin): a library of its
# own for the defines, rebuilt when a model file changes.
NVC_IMAGE_MODEL = models/image-v2.nvcm
NVC_VIDEO_MODEL = models/video-v3.nvcm
noinst_LTLIBRARIES += nvc/libnvcimgweights.la
nvc_libnvcimgweights_la_SOURCES = nvc/model_weights.c
nvc_libnvcimgweights_la_CPPFLAGS = $(AM_CPPFLAGS) -DNVC_IMAGE_MODEL_FILE='"$(abs_top_srcdir)/$(NVC_IMAGE_MODEL)"' \
	-DNVC_VIDEO_MODEL_FILE='"$(abs_top_srcdir)/$(NVC_VIDEO_MODEL)"'
# (a variable as target: automake would take a literal one as replacing its compile rule)
NVC_IMAGE_WEIGHTS_OBJ = nvc/libnvcimgweights_la-model_weights.lo
$(NVC_IMAGE_WEIGHTS_OBJ): $(top_srcdir)/$(NVC_IMAGE_MODEL) $(top_srcdir)/$(NVC_VIDEO_MODEL)
libnvc_core_la_LIBADD += nvc/libnvcimgweights.la
EXTRA_DIST += nvc/VIDEO.md
EXTRA_DIST += $(NVC_IMAGE_MODEL) $(NVC_VIDEO_MODEL) models/video-v3.sha256 models/README.md models/image-v2.sha256 models/image-v2.data.txt models/image-v2.calib.txt models/image-v1.data.txt bench/image_kodak.sh \
	bench/image_kodak_report.py

# nvc-train links the internal library (the nn engine and the models).
bin_PROGRAMS += tools/nvc-train
tools_nvc_train_SOURCES = tools/nvc-train.c tools/nvc-train-video.c tools/train_common.c tools/train_common.h
tools_nvc_train_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
tools_nvc_train_LDADD = tools/libtoolcommon.la libnvc_core.la $(NVC_DEP_LIBS)
tools_nvc_train_LDFLAGS = $(OPENMP_CFLAGS)
dist_man_MANS += doc/man/nvc-train.1

if HAVE_CHECK
check_PROGRAMS += tests/test_image
tests_test_image_SOURCES = tests/test_image.c tests/common.h
tests_test_image_CFLAGS = $(TEST_CFLAGS)
tests_test_image_LDADD = $(TEST_LDADD)
TESTS += tests/test_image

check_PROGRAMS += tests/test_video_model
tests_test_video_model_SOURCES = tests/test_video_model.c tests/common.h tests/grad_check.h
tests_test_video_model_CFLAGS = $(TEST_CFLAGS)
tests_test_video_model_LDADD = $(TEST_LDADD)
TESTS += tests/test_video_model

check_PROGRAMS += tests/test_video_codec
tests_test_video_codec_SOURCES = tests/test_video_codec.c tests/common.h
tests_test_video_codec_CFLAGS = $(TEST_CFLAGS)
tests_test_video_codec_LDADD = $(TEST_LDADD)
TESTS += tests/test_video_codec

check_PROGRAMS += tests/test_image_model
tests_test_image_model_SOURCES = tests/test_image_model.c tests/common.h tests/grad_check.h
tests_test_image_model_CFLAGS = $(TEST_CFLAGS)
tests_test_image_model_LDADD = $(TEST_LDADD)
TESTS += tests/test_image_model
endif

# The probability path gives the same bytes and symbols at -O0, -O2, -O3
# -march=native -ffp-contract=fast, -ffast-math, clang, 1-3 OpenMP threads.
TESTS += tests/image_determinism.sh
EXTRA_DIST += tests/image_determinism.sh tests/image_det.c

# Fuzz target of the image decoder (tests/fuzz/fuzz_image.c); `make check`
# replays its corpus tests/fuzz/corpus/image.
check_PROGRAMS += tests/fuzz/replay_image
tests_fuzz_replay_image_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_image.c
tests_fuzz_replay_image_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"image"'
tests_fuzz_replay_image_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
tests_fuzz_replay_image_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
tests_fuzz_replay_image_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_image
EXTRA_DIST += tests/fuzz/fuzz_image.c conformance/image

# Fuzz target of the conditional video decoder (tests/fuzz/fuzz_dcvc.c, with
# the conformance model); `make check` replays tests/fuzz/corpus/dcvc.
check_PROGRAMS += tests/fuzz/replay_dcvc
tests_fuzz_replay_dcvc_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_dcvc.c
tests_fuzz_replay_dcvc_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"dcvc"' -DFUZZ_SRCDIR='"$(abs_top_srcdir)"'
tests_fuzz_replay_dcvc_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
tests_fuzz_replay_dcvc_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
tests_fuzz_replay_dcvc_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_dcvc
EXTRA_DIST += tests/fuzz/fuzz_dcvc.c

# nvc-train --model video: trains, checkpoints, resumes, rejects bad input.
TESTS += tests/nvc-train-video.sh
EXTRA_DIST += tests/nvc-train-video.sh models/video-v1.data.txt
