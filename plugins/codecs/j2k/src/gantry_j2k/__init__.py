"""gantry-j2k: JPEG 2000 (Lossless and lossy) frames through imagecodecs' OpenJPEG."""
