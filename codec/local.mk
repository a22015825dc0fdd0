# libnvc front: public types, I/O, metrics, container.
nvcinclude_HEADERS += \
	include/nvc/nvc.h \
	include/nvc/common.h \
	include/nvc/picture.h \
	include/nvc/data.h \
	include/nvc/io.h \
	include/nvc/convert.h \
	include/nvc/metrics.h \
	include/nvc/container.h \
	include/nvc/codec.h \
	include/nvc/filter.h

libnvc_core_la_SOURCES += \
	codec/internal.h \
	codec/bytes.h \
	codec/bytes.c \
	codec/util.c \
	codec/version.c \
	codec/picture.c \
	codec/data.c \
	codec/crc.h \
	codec/crc.c \
	codec/container.h \
	codec/streamconfig.c \
	codec/mux.c \
	codec/demux.c \
	codec/elementary.c \
	codec/codec_internal.h \
	codec/codec.c

libnvc_core_la_SOURCES += \
	codec/file.h \
	codec/file.c \
	codec/io_internal.h \
	codec/io.c \
	codec/y4m.c \
	codec/png.c \
	codec/convert.c
libnvc_core_la_CFLAGS += $(PNG_CFLAGS)

# Quality metrics (nvc/metrics.h).
libnvc_core_la_SOURCES += \
	codec/ssim.h \
	codec/ssim.c \
	codec/metrics.c

# Matroska through libavformat: its own convenience library, because only
# this file needs FFmpeg's include flags.
if HAVE_FFMPEG
noinst_LTLIBRARIES += codec/libnvc_matroska.la
codec_libnvc_matroska_la_SOURCES = codec/matroska.c
codec_libnvc_matroska_la_CFLAGS = $(AM_CFLAGS) $(FFMPEG_CFLAGS)
libnvc_core_la_LIBADD += codec/libnvc_matroska.la

# Playback and interchange: FFmpeg input and output of pictures, filter
# graphs (nvc/io.h NVC_FILE_FFMPEG, nvc/filter.h).
noinst_LTLIBRARIES += codec/libnvc_lav.la
codec_libnvc_lav_la_SOURCES = codec/lav_map.h codec/lav.h codec/lav.c codec/lavf_in.c codec/lavf_out.c \
	codec/filter.c
codec_libnvc_lav_la_CFLAGS = $(AM_CFLAGS) $(FFMPEG_CFLAGS)
libnvc_core_la_LIBADD += codec/libnvc_lav.la
else
libnvc_core_la_SOURCES += codec/noffmpeg.c
endif

if HAVE_CHECK
check_PROGRAMS += tests/test_container
tests_test_container_SOURCES = tests/test_container.c tests/common.h
tests_test_container_CFLAGS = $(TEST_CFLAGS) $(FFMPEG_CFLAGS)
tests_test_container_LDADD = $(TEST_LDADD)
TESTS += tests/test_container
endif

if HAVE_FFMPEG
if HAVE_CHECK
# FFmpeg input/output and filter graphs on the shared media.
check_PROGRAMS += tests/test_playback
tests_test_playback_SOURCES = tests/test_playback.c tests/common.h
tests_test_playback_CFLAGS = $(TEST_CFLAGS)
tests_test_playback_LDADD = $(TEST_LDADD)
TESTS += tests/test_playback
endif
endif

EXTRA_DIST += doc/FORMAT.md
