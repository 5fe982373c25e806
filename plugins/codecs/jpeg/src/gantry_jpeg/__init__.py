"""gantry-jpeg: JPEG Baseline, Extended and Lossless (Process 14, SV1) frames over imagecodecs."""
