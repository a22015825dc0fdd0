/*
 * nvc-train --model video: the video P-frame model's trainer
 * (tools/nvc-train-video.c), called by nvc-train's main with the arguments
 * less "--model video".
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_TRAIN_VIDEO_H
#define NVC_TOOLS_TRAIN_VIDEO_H

int tool_train_video(int argc, char **argv);

#endif /* NVC_TOOLS_TRAIN_VIDEO_H */
