"""gantry-htj2k: High-Throughput JPEG 2000 frames, encoded by OpenJPH and decoded by OpenJPEG (imagecodecs)."""
