"""gantry-rle: the RLE Lossless transfer syntax (1.2.840.10008.1.2.5), decoding and encoding."""
