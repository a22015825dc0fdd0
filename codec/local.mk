# libnvc front: public types, I/O, metrics, container.
nvcinclude_HEADERS += \
	include/nvc/nvc.h \
	include/nvc/common.h \
	include/nvc/picture.h \
	include/nvc/data.h \
	include/nvc/io.h \
	include/nvc/convert.h \
	include/nvc/metrics.h

libnvc_core_la_SOURCES += \
	codec/internal.h \
	codec/bytes.h \
	codec/bytes.c \
	codec/util.c \
	codec/version.c \
	codec/picture.c \
	codec/data.c

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
