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
	codec/data.c \
	codec/ssim.h \
	codec/ssim.c \
	codec/metrics.c
